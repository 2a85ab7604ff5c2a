import type { Socket } from 'node:net';

/**
 * Requests Node's HTTP parser rejects before Express sees them (oversized headers or URL,
 * malformed request lines) still get the JSON error envelope instead of an empty reply.
 */
export function answerClientError(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
  const status = tooLarge ? 431 : 400;
  const body = JSON.stringify({
    message: tooLarge ? '请求头过大' : '请求无效',
    error: tooLarge ? 'request line or headers exceed the server limit' : 'malformed HTTP request',
  });
  socket.end(
    `HTTP/1.1 ${status} ${tooLarge ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}
