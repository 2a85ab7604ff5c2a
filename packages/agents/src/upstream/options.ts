import type { Dispatcher } from 'undici';

/** Timeouts, retries and keep-alive pings for calls to an upstream agent server. */
export interface UpstreamTimeouts {
  /** From sending the request to the first byte of the answer body (covers connecting); default 30 000. */
  firstByteTimeoutMs?: number;
  /** Longest silence between two chunks of the answer body; default 60 000. */
  idleTimeoutMs?: number;
  /** A `ping` event is yielded after this long without any other event; default 15 000. */
  pingIntervalMs?: number;
  /** Retries of connection errors, 429 and 5xx, only before the first byte; default 2. */
  maxRetries?: number;
  /** First retry delay, doubled on each further retry; default 250. */
  retryBackoffMs?: number;
  /** Timeout of small side requests (reachability checks, Dify's stop call); default 5 000. */
  probeTimeoutMs?: number;
}

export type ResolvedTimeouts = Required<UpstreamTimeouts>;

export const DEFAULT_TIMEOUTS: ResolvedTimeouts = {
  firstByteTimeoutMs: 30_000,
  idleTimeoutMs: 60_000,
  pingIntervalMs: 15_000,
  maxRetries: 2,
  retryBackoffMs: 250,
  probeTimeoutMs: 5_000,
};

export function resolveTimeouts(t: UpstreamTimeouts = {}): ResolvedTimeouts {
  const pick = (key: keyof UpstreamTimeouts, min: number): number => {
    const v = t[key];
    return typeof v === 'number' && Number.isFinite(v) ? Math.max(min, v) : DEFAULT_TIMEOUTS[key];
  };
  return {
    firstByteTimeoutMs: pick('firstByteTimeoutMs', 1),
    idleTimeoutMs: pick('idleTimeoutMs', 1),
    pingIntervalMs: pick('pingIntervalMs', 1),
    maxRetries: Math.floor(pick('maxRetries', 0)),
    retryBackoffMs: pick('retryBackoffMs', 0),
    probeTimeoutMs: pick('probeTimeoutMs', 1),
  };
}

/** Everything a provider needs to talk to its upstream. */
export interface Upstream {
  /** Names the upstream in error messages, e.g. `Dify (api.dify.ai)`; never holds secrets. */
  label: string;
  /** Redacted from every error message. */
  secrets: readonly string[];
  timeouts: ResolvedTimeouts;
  /** undici's connection pool for every call to this upstream (see sharedDispatcher). */
  dispatcher: Dispatcher;
}

/** The host of a base URL, never its credentials; '' when it is not a URL. */
export function hostOf(baseUrl: string): string {
  try {
    return new URL(baseUrl).host;
  } catch {
    return '';
  }
}

/** `Dify (api.dify.ai)`: names an upstream in messages without any secret. */
export function upstreamLabel(name: string, baseUrl: string): string {
  const host = hostOf(baseUrl);
  return host ? `${name} (${host})` : name;
}

/** `https://x/v1/` + `/chat` -> `https://x/v1/chat`. */
export function joinUrl(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}
