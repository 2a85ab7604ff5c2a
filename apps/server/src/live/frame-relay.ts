import type { RedisLink } from '@colloquy/store';

/**
 * How live video crosses instances: the instance holding a publisher's socket relays its frames,
 * and viewers on other instances follow them. In-process there is nothing to cross.
 *
 * Through Redis each publisher (user and client id) has a channel `<prefix>video:<user>:<client>` carrying binary messages:
 * a frame (`F` + the frame as the viewer gets it), or the publication starting (`P`) or ending
 * (`E`). Nothing is stored and nothing queued: a frame goes to whoever follows the channel now,
 * and each instance keeps only the latest frame per followed publisher and at most one waiting
 * per viewer (the hub's rule), so memory stays bounded however slow a viewer is. A viewer that
 * arrives asks (`<prefix>video:want:<user>:<client>`) and the publisher's instance re-sends its latest
 * frame, so a late viewer on another instance also gets a frame at once.
 */
export interface FrameRelay {
  /** A frame of a publisher on this instance. */
  frame(channel: string, frame: Buffer): void;
  /** A publication on this instance started or ended. */
  publishing(channel: string, on: boolean): void;
  /** Calls `resend` whenever a viewer elsewhere asks for this publisher's latest frame, until the returned function is called. */
  serve(channel: string, resend: () => void): () => void;
  /** Follows a publisher held elsewhere, until the returned function is called. */
  follow(channel: string, handlers: { frame(frame: Buffer): void; publishing(on: boolean): void }): () => void;
}

export const localFrameRelay: FrameRelay = {
  frame: () => undefined,
  publishing: () => undefined,
  serve: () => () => undefined,
  follow: () => () => undefined,
};

const FRAME = 0x46; // 'F'
const STARTED = 0x50; // 'P'
const ENDED = 0x45; // 'E'

export function createRedisFrameRelay(link: RedisLink): FrameRelay {
  const channelOf = (channel: string) => `${link.prefix}video:${channel}`;
  const wantOf = (channel: string) => `${link.prefix}video:want:${channel}`;
  const redis = link.command;
  const ignore = () => undefined;
  const later = (subscribing: Promise<() => void>) => () => void subscribing.then((off) => off(), ignore);
  return {
    frame(channel, frame) {
      // One copy with the type byte in front; Redis drops it when nobody follows.
      redis.publish(channelOf(channel), Buffer.concat([Buffer.of(FRAME), frame])).catch(ignore);
    },
    publishing(channel, on) {
      redis.publish(channelOf(channel), Buffer.of(on ? STARTED : ENDED)).catch(ignore);
    },
    serve(channel, resend) {
      return later(link.subscribe(wantOf(channel), resend));
    },
    follow(channel, handlers) {
      const subscribing = link.subscribe(channelOf(channel), (message) => {
        const type = message[0];
        if (type === FRAME) handlers.frame(message.subarray(1));
        else if (type === STARTED) handlers.publishing(true);
        else if (type === ENDED) handlers.publishing(false);
      });
      // Once following, ask the publisher's instance for its latest frame.
      subscribing.then(() => redis.publish(wantOf(channel), '1')).catch(ignore);
      return later(subscribing);
    },
  };
}
