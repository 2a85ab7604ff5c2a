import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  actorOf,
  AppError,
  findByOwnId,
  type Actor,
  attachClient,
  httpStatusOf,
  userFrom,
  type Context,
  type Principal,
  type RequestInfo,
  type Services,
} from '@colloquy/api';
import type { ClientRecord } from '@colloquy/store';
import { TRPCError } from '@trpc/server';
import type { RedisLink } from '@colloquy/store';
import { WebSocketServer, type WebSocket } from 'ws';
import { bearerToken } from '../security/auth.ts';
import { rateBucket, type AccessControl } from '../security/index.ts';
import { FRAME_HEADER_BYTES } from './frame.ts';
import { createRedisFrameRelay, localFrameRelay } from './frame-relay.ts';
import { createVideoHub, ViewerLimitError, type VideoHub } from './video-hub.ts';

/** The WebSocket endpoint of live video. */
export const LIVE_SOCKET_PATH = '/live/ws';

const CLIENT_ID = /^[\w.:@-]{1,128}$/;
/** Viewers never send anything large. */
const VIEWER_MAX_PAYLOAD = 4096;

export interface LiveSocketOptions {
  services: Services;
  createContext: (info: RequestInfo) => Context;
  /** The keys, rate limiter, stream caps and Host/Origin checks every HTTP request goes through too. */
  access: AccessControl;
  /** The client's address (the peer, or a trusted proxy's X-Forwarded-For: TRUST_PROXY). */
  clientIp(req: IncomingMessage): string | undefined;
  maxFrameBytes: number;
  maxFps: number;
  maxViewersPerPublisher: number;
  /** Sockets are pinged every quarter of this and cut after this long without an answer. */
  timeoutMs: number;
  /** True once shutdown has begun: new sockets are refused (503). */
  isDraining(): boolean;
  /** The Redis connections when live state is shared: frames then cross instances through it. */
  redis?: RedisLink;
}

export interface LiveSockets {
  hub: VideoHub;
  /** The HTTP server's `upgrade` listener. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  close(): void;
}

class UpgradeError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    /** The body's `message` (default: by status). */
    readonly reason?: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(error);
  }
}

/** Seconds a caller refused at its stream cap is told to wait. */
const STREAM_RETRY_AFTER_SECONDS = 5;

/**
 * `GET /live/ws?role=publish[&clientId=…]` and `GET /live/ws?role=watch&clientId=…`, upgraded to
 * WebSockets. Authenticated like every route: `Authorization: Bearer <key>` or, for browsers
 * (which cannot set headers on a WebSocket), a `token` query parameter. The user is resolved as
 * for any call (`user` query parameter / `X-Colloquy-User`). A publisher is a connected client of
 * its user (its presence record is created if its SDK has not registered it yet, and shows
 * `publishing: true`); a viewer may watch the clients it may list (its user's; any for an admin
 * key or, without keys, when it names no user). Refusals are HTTP error responses with the usual
 * `{message, error}` body.
 */
export function createLiveSockets(options: LiveSocketOptions): LiveSockets {
  const { services, access } = options;
  const { ring } = access;
  const pingIntervalMs = Math.max(50, Math.floor(options.timeoutMs / 4));
  const hub = createVideoHub({
    presence: services.presence,
    maxFrameBytes: options.maxFrameBytes,
    maxFps: options.maxFps,
    maxViewersPerPublisher: options.maxViewersPerPublisher,
    pingIntervalMs,
    timeoutMs: options.timeoutMs,
    relay: options.redis ? createRedisFrameRelay(options.redis) : localFrameRelay,
  });
  const publishers = new WebSocketServer({ noServer: true, maxPayload: options.maxFrameBytes + FRAME_HEADER_BYTES, perMessageDeflate: false });
  const viewers = new WebSocketServer({ noServer: true, maxPayload: VIEWER_MAX_PAYLOAD, perMessageDeflate: false });

  /**
   * As for every HTTP request: Host and Origin, then the key (looked up, not yet required), the
   * rate limit (so guessing keys is limited per address too), then the key is required.
   * Returns the principal and the bucket the socket's stream slot counts against.
   */
  const admit = async (req: IncomingMessage, url: URL, ip: string | undefined): Promise<{ principal: Principal | undefined; bucket: string }> => {
    const site = access.sites.refusal('GET', req.headers);
    if (site) throw new UpgradeError(site.status, site.error, site.message);
    const token = bearerToken(req.headers.authorization) ?? (url.searchParams.get('token') || undefined);
    const match = ring.size === 0 || token === undefined ? undefined : ring.authenticate(token);
    const bucket = rateBucket(match ? { kind: 'key', ...match } : undefined, ip);
    const wait = await access.limiter?.hit(bucket);
    if (wait !== undefined) {
      throw new UpgradeError(429, 'rate limit exceeded; retry after the Retry-After delay', '请求过于频繁', wait);
    }
    if (ring.size > 0 && !match) throw new UpgradeError(401, 'missing or invalid API key');
    return { principal: match?.principal, bucket };
  };

  /** The client a viewer means by its id (client ids are per user: see findByOwnId). */
  const watchedClient = async (actor: Actor, clientId: string): Promise<ClientRecord> => {
    const target = await findByOwnId(
      actor,
      clientId,
      { own: (owner, id) => services.presence.get(owner, id), anyOwner: (id, limit) => services.presence.findById(id, limit) },
      `client id ${clientId} is used by several users; name the user (user=)`,
    );
    if (!target) throw new UpgradeError(404, 'no such client');
    return target;
  };

  const upgrade = async (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== LIVE_SOCKET_PATH) throw new UpgradeError(404, 'no WebSocket endpoint here');
    if (options.isDraining()) throw new UpgradeError(503, 'shutting down');
    const ip = options.clientIp(req);
    const { principal, bucket } = await admit(req, url, ip);
    const releaseSlot = access.streams.open(bucket);
    if (!releaseSlot) {
      const per = bucket.startsWith('key:') ? 'API key' : 'client address';
      throw new UpgradeError(429, `at most ${access.streams.capOf(bucket)} open streams per ${per}; close one first`, '请求过于频繁', STREAM_RETRY_AFTER_SECONDS);
    }
    // Held for the socket's life, whatever happens next (a refusal below closes it too).
    socket.once('close', releaseSlot);
    const ctx = options.createContext({ headers: req.headers, principal, ip });
    const named = userFrom(url.searchParams);
    const actor = actorOf(ctx, typeof named === 'string' && named !== '' ? named : undefined);
    const role = url.searchParams.get('role');
    const clientId = url.searchParams.get('clientId') ?? url.searchParams.get('client_id') ?? undefined;
    if (clientId !== undefined && !CLIENT_ID.test(clientId)) throw new UpgradeError(400, 'clientId is not a valid client id');

    if (role === 'publish') {
      const id = clientId ?? randomUUID();
      const lease = await attachClient(services.presence, {
        id,
        userId: actor.owner,
        details: { kind: 'video', ip: ctx.request.ip ?? null, userAgent: ctx.request.userAgent ?? null },
      });
      publishers.handleUpgrade(req, socket, head, (ws: WebSocket) => hub.publish(ws, lease));
      // The socket may have failed the handshake: the lease must not outlive it.
      socket.once('close', () => lease.release());
      return;
    }
    if (role === 'watch') {
      if (clientId === undefined) throw new UpgradeError(400, 'clientId is required to watch');
      const target = await watchedClient(actor, clientId);
      viewers.handleUpgrade(req, socket, head, (ws: WebSocket) => {
        try {
          hub.watch(ws, target.userId, clientId, target.publishing);
        } catch (err) {
          ws.close(1013, err instanceof ViewerLimitError ? err.message : 'refused');
        }
      });
      return;
    }
    throw new UpgradeError(400, 'role must be "publish" or "watch"');
  };

  return {
    hub,
    handleUpgrade(req, socket, head) {
      socket.on('error', () => undefined);
      upgrade(req, socket, head).catch((err: unknown) => {
        const refusal =
          err instanceof UpgradeError
            ? err
            : err instanceof AppError
              ? new UpgradeError(httpStatusOf(err), err.message, undefined, err.retryAfterSeconds)
              : err instanceof TRPCError
                ? new UpgradeError(httpStatusOf(err.code), err.message)
                : new UpgradeError(500, 'internal error');
        refuse(socket, refusal);
      });
    },
    close() {
      hub.close();
      publishers.close();
      viewers.close();
    },
  };
}

const MESSAGES: Record<number, string> = { 401: '未授权', 404: '未找到', 429: '请求过多' };

/** Answers an upgrade request with an HTTP error and the usual JSON body, then closes the socket. */
function refuse(socket: Duplex, refusal: UpgradeError): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const { status, error } = refusal;
  const body = JSON.stringify({ message: refusal.reason ?? MESSAGES[status] ?? '视频连接失败', error });
  const headers = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    ...(status === 401 ? ['WWW-Authenticate: Bearer realm="colloquy"'] : []),
    ...(refusal.retryAfterSeconds !== undefined ? [`Retry-After: ${refusal.retryAfterSeconds}`] : []),
  ];
  socket.end(`${headers.join('\r\n')}\r\n\r\n${body}`);
}
