import type { PresenceLease, PresenceRegistry } from '@colloquy/store';
import type { WebSocket } from 'ws';
import { checkFrame, FrameError, stampFrame } from './frame.ts';
import { localFrameRelay, type FrameRelay } from './frame-relay.ts';

/**
 * Live video: publishers send frames, the hub keeps each publisher's latest frame and relays
 * frames to that publisher's viewers. Memory per publisher is bounded by design: one latest
 * frame; per viewer at most one frame being written and one pending — a newer frame replaces
 * the pending one (a dropped frame) instead of queueing behind it. Frames are shared buffers,
 * never copied per viewer.
 *
 * Control messages are JSON text messages:
 *   to a publisher: {"type":"ready","clientId","maxFrameBytes","maxFps"}
 *   to a viewer:    {"type":"hello","clientId","publishing"}, {"type":"publishing"}, {"type":"ended"}
 */
export interface VideoHubOptions {
  presence: PresenceRegistry;
  /** Largest image (frame minus its header) a publisher may send. */
  maxFrameBytes: number;
  /** Frames per second accepted from one publisher; faster ones are dropped. */
  maxFps: number;
  /** Viewers of one publisher at once. */
  maxViewersPerPublisher: number;
  /** Ping every socket this often; one that has not answered for `timeoutMs` is cut. */
  pingIntervalMs: number;
  timeoutMs: number;
  /** How frames reach viewers on other instances (in-process: nothing to cross). */
  relay?: FrameRelay;
}

export interface VideoStats {
  publishers: number;
  viewers: number;
  /** Frames accepted from publishers. */
  framesIn: number;
  /** Frames written to viewers. */
  framesOut: number;
  /** Frames not relayed: a viewer had not taken the previous one, or the publisher was over the frame rate. */
  framesDropped: { slowViewer: number; rate: number };
  /** Messages refused (the publisher's socket is closed): too large, or not a frame. */
  framesRefused: { oversized: number; invalid: number };
}

/** WebSocket close codes used besides the standard ones. */
export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  unsupported: 1003,
  invalidData: 1007,
  policy: 1008,
  tooBig: 1009,
  /** A newer publisher for the same client id took over. */
  replaced: 4409,
  /** The watched client disconnected. */
  clientLeft: 4410,
} as const;

interface Viewer {
  ws: WebSocket;
  writing: boolean;
  pending: Buffer | undefined;
}

interface Publisher {
  ws: WebSocket;
  lease: PresenceLease;
  tokens: number;
  refilledAt: number;
  /** Stops answering other instances' requests for the latest frame. */
  unserve: () => void;
}

/** One client's video: the client is its user's `clientId` (client ids are per user). */
interface Channel {
  key: string;
  userId: string;
  clientId: string;
  publisher: Publisher | undefined;
  latest: Buffer | undefined;
  seq: number;
  viewers: Set<Viewer>;
  /** The channel's name across instances (its user, URI-encoded, and its client id). */
  relayName: string;
  /** Following a publisher on another instance (while this one has viewers and no publisher). */
  unfollow: (() => void) | undefined;
  /** Whether the remote publisher is publishing (as last heard). */
  remotePublishing: boolean;
}

export class ViewerLimitError extends Error {
  override readonly name = 'ViewerLimitError';
}

export interface VideoHub {
  /** Takes over a publisher's socket for the lease's client (the lease is released when it closes). */
  publish(ws: WebSocket, lease: PresenceLease): void;
  /** Takes over a viewer's socket; throws ViewerLimitError when the publisher has too many. */
  /** `publishing`: whether the client publishes (from presence), for a publisher on another instance. */
  watch(ws: WebSocket, userId: string, clientId: string, publishing?: boolean): void;
  stats(): VideoStats;
  /** Closes every socket (1001) and stops pinging. */
  close(): void;
}

/** User ids have no control characters: NUL separates the two parts of a channel's key. */
const channelKey = (userId: string, clientId: string): string => `${userId}\u0000${clientId}`;

export function createVideoHub(options: VideoHubOptions): VideoHub {
  const channels = new Map<string, Channel>();
  const lastPong = new Map<WebSocket, number>();
  const stats: VideoStats = {
    publishers: 0,
    viewers: 0,
    framesIn: 0,
    framesOut: 0,
    framesDropped: { slowViewer: 0, rate: 0 },
    framesRefused: { oversized: 0, invalid: 0 },
  };
  const burst = Math.max(2, Math.ceil(options.maxFps / 5));

  const channelOf = (userId: string, clientId: string): Channel => {
    const key = channelKey(userId, clientId);
    let channel = channels.get(key);
    if (!channel) {
      channel = {
        key,
        userId,
        clientId,
        publisher: undefined,
        latest: undefined,
        seq: 0,
        viewers: new Set(),
        relayName: `${encodeURIComponent(userId)}:${clientId}`,
        unfollow: undefined,
        remotePublishing: false,
      };
      channels.set(key, channel);
    }
    return channel;
  };
  const relay = options.relay ?? localFrameRelay;
  const forget = (channel: Channel) => {
    if (channel.viewers.size === 0 && channel.unfollow) {
      channel.unfollow();
      channel.unfollow = undefined;
      if (!channel.publisher) channel.latest = undefined;
    }
    if (!channel.publisher && channel.viewers.size === 0 && channels.get(channel.key) === channel) channels.delete(channel.key);
  };
  /** Viewers here of a publisher elsewhere: its frames come through the relay. */
  const followRemote = (channel: Channel) => {
    if (channel.unfollow || channel.publisher) return;
    channel.unfollow = relay.follow(channel.relayName, {
      frame(frame) {
        if (channel.publisher) return;
        channel.latest = frame;
        stats.framesIn += 1;
        for (const viewer of channel.viewers) offer(viewer, frame);
      },
      publishing(on) {
        if (channel.publisher || channel.remotePublishing === on) return;
        channel.remotePublishing = on;
        if (!on) channel.latest = undefined;
        for (const viewer of channel.viewers) sendJson(viewer.ws, { type: on ? 'publishing' : 'ended' });
      },
    });
  };

  const sendJson = (ws: WebSocket, message: object) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
  };

  const write = (viewer: Viewer, frame: Buffer) => {
    viewer.writing = true;
    viewer.ws.send(frame, { binary: true }, (err) => {
      viewer.writing = false;
      if (err) {
        viewer.pending = undefined;
        return;
      }
      stats.framesOut += 1;
      const next = viewer.pending;
      viewer.pending = undefined;
      if (next && viewer.ws.readyState === viewer.ws.OPEN) write(viewer, next);
    });
  };

  /** Relays a frame to a viewer, or leaves it pending (replacing — dropping — an older pending one). */
  const offer = (viewer: Viewer, frame: Buffer) => {
    if (viewer.ws.readyState !== viewer.ws.OPEN) return;
    if (viewer.writing) {
      if (viewer.pending) stats.framesDropped.slowViewer += 1;
      viewer.pending = frame;
      return;
    }
    write(viewer, frame);
  };

  const track = (ws: WebSocket) => {
    lastPong.set(ws, Date.now());
    ws.on('pong', () => lastPong.set(ws, Date.now()));
    ws.once('close', () => lastPong.delete(ws));
  };

  const endPublication = (channel: Channel, publisher: Publisher) => {
    if (channel.publisher !== publisher) return;
    channel.publisher = undefined;
    channel.latest = undefined;
    stats.publishers -= 1;
    publisher.unserve();
    relay.publishing(channel.relayName, false);
    for (const viewer of channel.viewers) sendJson(viewer.ws, { type: 'ended' });
    options.presence.setPublishing(channel.userId, channel.clientId, false);
    // The last lease going removes the client (its viewers are then closed, see below).
    publisher.lease.release();
    forget(channel);
  };

  const onFrame = (channel: Channel, publisher: Publisher, data: Buffer) => {
    try {
      checkFrame(data);
    } catch (err) {
      stats.framesRefused.invalid += 1;
      publisher.ws.close(CLOSE.invalidData, err instanceof FrameError ? err.message : 'not a frame');
      return;
    }
    const now = Date.now();
    publisher.tokens = Math.min(burst, publisher.tokens + ((now - publisher.refilledAt) * options.maxFps) / 1000);
    publisher.refilledAt = now;
    if (publisher.tokens < 1) {
      stats.framesDropped.rate += 1;
      return;
    }
    publisher.tokens -= 1;
    channel.seq += 1;
    stampFrame(data, channel.seq, now);
    channel.latest = data;
    stats.framesIn += 1;
    void options.presence.touch(channel.userId, channel.clientId);
    for (const viewer of channel.viewers) offer(viewer, data);
    relay.frame(channel.relayName, data);
  };

  const pinger = setInterval(() => {
    const cutoff = Date.now() - options.timeoutMs;
    for (const [ws, seen] of lastPong) {
      if (seen < cutoff) ws.terminate();
      else if (ws.readyState === ws.OPEN) ws.ping();
    }
  }, options.pingIntervalMs);
  pinger.unref();

  // A watched client that leaves (and publishes nothing here) ends its viewers' sessions.
  const unwatch = options.presence.watch((event) => {
    if (event.type !== 'left') return;
    const channel = channels.get(channelKey(event.client.userId, event.client.id));
    if (!channel) return;
    if (channel.publisher) channel.publisher.ws.close(CLOSE.goingAway, 'client left');
    for (const viewer of channel.viewers) viewer.ws.close(CLOSE.clientLeft, 'client left');
  });

  return {
    publish(ws, lease) {
      const { userId, clientId } = lease;
      const channel = channelOf(userId, clientId);
      const previous = channel.publisher;
      if (previous) {
        endPublication(channel, previous);
        previous.ws.close(CLOSE.replaced, 'replaced by a newer publisher');
      }
      // A publisher here replaces following one elsewhere.
      channel.unfollow?.();
      channel.unfollow = undefined;
      const publisher: Publisher = {
        ws,
        lease,
        tokens: burst,
        refilledAt: Date.now(),
        unserve: relay.serve(channel.relayName, () => {
          if (channel.publisher === publisher && channel.latest) relay.frame(channel.relayName, channel.latest);
        }),
      };
      channel.publisher = publisher;
      relay.publishing(channel.relayName, true);
      channel.seq = 0;
      stats.publishers += 1;
      track(ws);
      // A publisher that sends nothing for a while (a paused camera) stays connected while it answers pings.
      ws.on('pong', () => void options.presence.touch(userId, clientId));
      options.presence.setPublishing(userId, clientId, true);
      lease.signal.addEventListener('abort', () => ws.close(CLOSE.goingAway, 'client timed out'), { once: true });
      ws.on('message', (data, isBinary) => {
        // Publishers send frames only: anything else is refused as the README says (1007).
        if (!isBinary) {
          stats.framesRefused.invalid += 1;
          ws.close(CLOSE.invalidData, 'a publisher sends binary frames only');
          return;
        }
        onFrame(channel, publisher, Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data));
      });
      ws.on('error', (err: Error & { code?: string }) => {
        if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') stats.framesRefused.oversized += 1;
      });
      ws.once('close', () => endPublication(channel, publisher));
      sendJson(ws, { type: 'ready', clientId, maxFrameBytes: options.maxFrameBytes, maxFps: options.maxFps });
      for (const viewer of channel.viewers) sendJson(viewer.ws, { type: 'publishing' });
    },

    watch(ws, userId, clientId, publishing = false) {
      const channel = channelOf(userId, clientId);
      if (channel.viewers.size >= options.maxViewersPerPublisher) {
        forget(channel);
        throw new ViewerLimitError(`at most ${options.maxViewersPerPublisher} viewers per publisher`);
      }
      const viewer: Viewer = { ws, writing: false, pending: undefined };
      channel.viewers.add(viewer);
      stats.viewers += 1;
      track(ws);
      ws.on('message', () => undefined); // viewers send nothing; anything they do is ignored
      ws.on('error', () => undefined);
      ws.once('close', () => {
        channel.viewers.delete(viewer);
        viewer.pending = undefined;
        stats.viewers -= 1;
        forget(channel);
      });
      if (!channel.publisher && !channel.unfollow) {
        channel.remotePublishing = publishing;
        followRemote(channel);
      }
      sendJson(ws, { type: 'hello', clientId, publishing: channel.publisher !== undefined || channel.remotePublishing });
      // A late viewer gets the latest frame at once (from another instance: as soon as it is re-sent).
      if (channel.latest) offer(viewer, channel.latest);
    },

    stats: () => ({ ...stats, framesDropped: { ...stats.framesDropped }, framesRefused: { ...stats.framesRefused } }),

    close() {
      clearInterval(pinger);
      unwatch();
      for (const c of channels.values()) c.unfollow?.();
      const sockets = [...channels.values()].flatMap((c) => [...(c.publisher ? [c.publisher.ws] : []), ...[...c.viewers].map((v) => v.ws)]);
      for (const ws of sockets) ws.close(CLOSE.goingAway, 'server shutting down');
      // A peer that does not answer the close (a stalled viewer) is cut.
      setTimeout(() => sockets.forEach((ws) => ws.terminate()), 500).unref();
    },
  };
}
