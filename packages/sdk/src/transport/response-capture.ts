/** What the SDK learned about one HTTP response: for `withResponse()` and for errors. */
export interface ResponseCapture {
  status?: number | undefined;
  headers?: Headers | undefined;
  /** The server's `X-Request-Id`. */
  requestId?: string | undefined;
  /** An error response's body (parsed JSON, else its text); read only for streams. */
  body?: unknown;
}

/** Notes a call's response (its body is tRPC's to read). */
export function noteResponse(capture: ResponseCapture, res: Response): void {
  capture.status = res.status;
  capture.headers = res.headers;
  capture.requestId = res.headers.get('x-request-id') ?? undefined;
}

/**
 * Notes a stream's response. A refused one (401, 404, 429…) has its body read first: the
 * EventSource only reports "Non-200 status code", and the body says why in the server's words.
 */
export async function noteStreamResponse(capture: ResponseCapture, res: Response): Promise<Response> {
  noteResponse(capture, res);
  if (res.ok) return res;
  const text = await res.text().catch(() => '');
  capture.body = parseBody(text);
  return new Response(text, { status: res.status, statusText: res.statusText, headers: res.headers });
}

function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
