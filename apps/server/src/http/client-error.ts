import type { Socket } from 'node:net';

/**
 * Requests Node's HTTP parser rejects before Express sees them (oversized headers or URL,
 * malformed request lines) still get the JSON error envelope instead of an empty reply.
 */
export function answerClientError(err: Error & { code?: string }, socket: Socket & { _httpMessage?: { headersSent?: boolean } }): void {
  // Nothing to answer, or an answer already under way (a request that timed out mid-body after
  // its route had begun to respond): just close.
  if (err.code === 'ECONNRESET' || !socket.writable || socket._httpMessage?.headersSent) {
    socket.destroy();
    return;
  }
  const { status, reason, message, error } = describe(err.code);
  const body = JSON.stringify({ message, error });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}

function describe(code: string | undefined): { status: number; reason: string; message: string; error: string } {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, reason: 'Request Header Fields Too Large', message: '请求头过大', error: 'request line or headers exceed the server limit' };
    // HEADERS_TIMEOUT_MS or REQUEST_TIMEOUT_MS: the client was too slow to send its request.
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, reason: 'Request Timeout', message: '请求超时', error: 'the request was not received in time' };
    default:
      return { status: 400, reason: 'Bad Request', message: '请求无效', error: 'malformed HTTP request' };
  }
}
