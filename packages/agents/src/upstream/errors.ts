export type UpstreamErrorCode =
  | 'http_error'
  | 'connection_failed'
  | 'first_byte_timeout'
  | 'idle_timeout'
  | 'upstream_closed'
  | 'incomplete_stream'
  | 'stream_error'
  | 'invalid_response'
  | (string & {});

export interface UpstreamErrorInit {
  /** The upstream's HTTP status, when it answered one. */
  status?: number;
  /** Ours (see UpstreamErrorCode) or the upstream's own error code. */
  code: UpstreamErrorCode;
  /** Strings to scrub from the message (API keys). */
  secrets: readonly string[];
}

/** A failed upstream call. The message is safe to show: secrets are redacted on construction. */
export class UpstreamError extends Error {
  override readonly name = 'UpstreamError';
  readonly status: number | undefined;
  readonly code: string;

  constructor(message: string, init: UpstreamErrorInit) {
    super(redact(message, init.secrets));
    this.status = init.status;
    this.code = redact(init.code, init.secrets);
  }
}

const REDACTED = '[redacted]';

/** Replaces every secret, and any bearer token, in `text`. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    // Very short "keys" would blank out ordinary words; real keys are long.
    if (secret.length >= 6) out = out.split(secret).join(REDACTED);
  }
  return out.replace(/\b(Bearer\s+)[^\s"',;]+/gi, `$1${REDACTED}`);
}
