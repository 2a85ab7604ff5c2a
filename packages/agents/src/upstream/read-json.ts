import { UpstreamError } from './errors.ts';
import { parseJson } from './json.ts';
import { asFailure, type OpenedResponse } from './open.ts';
import type { Upstream } from './options.ts';

/** Reads a whole (small) JSON answer; the first-byte timeout armed by `openUpstream` covers it all. */
export async function readJson(up: Upstream, opened: OpenedResponse, signal: AbortSignal): Promise<unknown> {
  const { response, deadline } = opened;
  let text: string;
  try {
    text = await response.body.text();
  } catch (err) {
    throw asFailure(up, err, signal, deadline, 'upstream_closed');
  } finally {
    deadline.release();
  }
  const value = parseJson(text);
  if (value === undefined) {
    throw new UpstreamError(`${up.label} sent an answer that is not JSON`, { code: 'invalid_response', secrets: up.secrets });
  }
  return value;
}
