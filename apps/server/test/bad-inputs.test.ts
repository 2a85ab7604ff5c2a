/**
 * Bad inputs against every REST route, a few tRPC routes and every OpenAI and Dify route: each
 * is a 4xx (never a 5xx) with a JSON body in its route family's shape; afterwards the server is
 * healthy and nothing was stored.
 */
import { describe, expect, it } from 'vitest';
import { requestJson } from './support/test-server.ts';
import { countBlobs, dataDirOf, listConversations, storedFiles, useServer, type Json } from './support/http-helpers.ts';

interface BadRequest {
  method: 'GET' | 'POST' | 'DELETE';
  /** Path and query string. */
  path: string;
  /** Sent as JSON (application/json). */
  json?: unknown;
  /** Sent verbatim, with `contentType` (default application/json). */
  raw?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

const MB = 1_000_000;
const oneMb = 'a'.repeat(MB);
const deepArray = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
const deepObject = `${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}`;
const enc = encodeURIComponent;
const trpcInput = (input: unknown) => `?input=${enc(JSON.stringify(input))}`;

const get = (path: string): BadRequest => ({ method: 'GET', path });
const post = (path: string, json: unknown): BadRequest => ({ method: 'POST', path, json });
const postRaw = (path: string, raw: string, contentType = 'application/json'): BadRequest => ({
  method: 'POST',
  path,
  raw,
  contentType,
});
const del = (path: string, json?: unknown): BadRequest => ({ method: 'DELETE', path, json });
const delRaw = (path: string, raw: string, contentType = 'application/json'): BadRequest => ({
  method: 'DELETE',
  path,
  raw,
  contentType,
});

/** The same malformed bodies against every route that takes one. */
const malformedBodies = (make: (raw: string, contentType?: string) => BadRequest): [string, BadRequest][] => [
  ['invalid JSON', make('{"oops": ')],
  ['a JSON syntax error', make("{'single': 'quotes'}")],
  ['a JSON array body', make('["hello", "world"]')],
  ['a JSON string body', make('"hello"')],
  ['a JSON null body', make('null')],
  ['an empty body', make('')],
  ['a text/plain body', make('{"query":"hi","file_paths":["a.txt"],"conversation_id":"x"}', 'text/plain')],
  ['a form-urlencoded body', make('query=hi&file_paths=a.txt&conversation_id=x', 'application/x-www-form-urlencoded')],
  ['deeply nested arrays', make(`{"query":${deepArray},"file_paths":${deepArray},"conversation_id":${deepArray}}`)],
  ['deeply nested objects', make(deepObject)],
  ['an unsupported charset', make('{"query":"hi"}', 'application/json; charset=klingon')],
];

const restRows: [string, BadRequest][] = [
  // GET /get_conversation_list
  ['list: limit not a number', get('/get_conversation_list?limit=abc')],
  ['list: limit 0', get('/get_conversation_list?limit=0')],
  ['list: limit negative', get('/get_conversation_list?limit=-1')],
  ['list: limit fractional', get('/get_conversation_list?limit=2.5')],
  ['list: limit huge', get('/get_conversation_list?limit=1e309')],
  ['list: unknown last_id', get('/get_conversation_list?last_id=nope')],
  ['list: last_id with a NUL', get(`/get_conversation_list?last_id=${enc('a\u0000b')}`)],
  ['list: last_id in Chinese', get(`/get_conversation_list?last_id=${enc('会话')}`)],
  ['list: last_id with an emoji', get(`/get_conversation_list?last_id=${enc('conv-😀')}`)],
  ['list: 200-char manager_id', get(`/get_conversation_list?manager_id=${'m'.repeat(200)}`)],
  ['list: whitespace manager_id', get('/get_conversation_list?manager_id=%20%20')],
  ['list: 200-char user', get(`/get_conversation_list?user=${'u'.repeat(200)}`)],
  ['list: whitespace user_id', get('/get_conversation_list?user_id=%20%20%20')],
  ['list: 1 MB last_id in the URL', get(`/get_conversation_list?last_id=${oneMb}`)],

  // DELETE /delete_conv
  ['delete: no body, no query', del('/delete_conv')],
  ['delete: empty object', del('/delete_conv', {})],
  ['delete: id a number', del('/delete_conv', { conversation_id: 123 })],
  ['delete: id an object', del('/delete_conv', { conversation_id: { id: 'x' } })],
  ['delete: id an array', del('/delete_conv', { conversation_id: ['x'] })],
  ['delete: id a boolean', del('/delete_conv', { conversation_id: true })],
  ['delete: 1 MB id in the body', del('/delete_conv', { conversation_id: oneMb })],
  ['delete: id with a NUL', del('/delete_conv', { conversation_id: 'a\u0000b' })],
  ['delete: id in Chinese', del('/delete_conv', { conversation_id: '会话一' })],
  ['delete: id with an emoji', del('/delete_conv', { conversation_id: '😀' })],
  ['delete: id a lone surrogate', delRaw('/delete_conv', '{"conversation_id":"\\ud800"}')],
  ['delete: id with spaces', del('/delete_conv', { conversation_id: 'a b' })],
  ['delete: user a number', del('/delete_conv', { conversation_id: 'x', user: 5 })],
  ['delete: unknown id', del('/delete_conv', { conversation_id: 'never-existed' })],
  ['delete: 1 MB id in the URL', del(`/delete_conv?conversation_id=${oneMb}`)],
  // Rejected by Node's HTTP parser before any route (tRPC included) sees it: the generic envelope.
  ['tRPC conversations.get: 1 MB id in the URL', get(`/trpc/conversations.get${trpcInput({ id: oneMb })}`)],
  ...malformedBodies((raw, ct) => delRaw('/delete_conv', raw, ct)).map(
    ([name, r]): [string, BadRequest] => [`delete: ${name}`, r],
  ),

  // POST /upload_files
  ['upload: file_paths missing', post('/upload_files', {})],
  ['upload: file_paths a string', post('/upload_files', { file_paths: 'file1.txt' })],
  ['upload: file_paths an object', post('/upload_files', { file_paths: { path: 'file1.txt' } })],
  ['upload: file_paths a number', post('/upload_files', { file_paths: 1 })],
  ['upload: file_paths empty', post('/upload_files', { file_paths: [] })],
  ['upload: a number path', post('/upload_files', { file_paths: [42] })],
  ['upload: an object path', post('/upload_files', { file_paths: [{ path: 'a.txt' }] })],
  ['upload: an empty path', post('/upload_files', { file_paths: [''] })],
  ['upload: a 1 MB path', post('/upload_files', { file_paths: [oneMb] })],
  ['upload: a path with a NUL', post('/upload_files', { file_paths: ['a\u0000b.txt'] })],
  ['upload: a missing path in Chinese', post('/upload_files', { file_paths: ['不存在的文件.txt'] })],
  ['upload: 101 paths', post('/upload_files', { file_paths: Array.from({ length: 101 }, (_, i) => `f${i}.txt`) })],
  ['upload: user a number', post('/upload_files', { file_paths: ['a.txt'], user: 7 })],
  ['upload: user an object', post('/upload_files', { file_paths: ['a.txt'], user_id: { id: 'u' } })],
  ['upload: user whitespace', post('/upload_files', { file_paths: ['a.txt'], user: '   ' })],
  ...malformedBodies((raw, ct) => postRaw('/upload_files', raw, ct)).map(
    ([name, r]): [string, BadRequest] => [`upload: ${name}`, r],
  ),

  // POST /converse
  ['converse: query missing', post('/converse', {})],
  ['converse: query empty', post('/converse', { query: '' })],
  ['converse: query whitespace', post('/converse', { query: ' \n ' })],
  ['converse: query a number', post('/converse', { query: 42 })],
  ['converse: query an object', post('/converse', { query: { text: 'hi' } })],
  ['converse: query an array', post('/converse', { query: ['hi'] })],
  ['converse: query a boolean', post('/converse', { query: true })],
  ['converse: query of 1 000 000 chars', post('/converse', { query: oneMb })],
  ['converse: query over the body limit (3 MB of UTF-8)', post('/converse', { query: '会'.repeat(MB) })],
  ['converse: conversation_id of 1 MB', post('/converse', { query: 'hi', conversation_id: oneMb })],
  ['converse: conversation_id a number', post('/converse', { query: 'hi', conversation_id: 123 })],
  ['converse: conversation_id an object', post('/converse', { query: 'hi', conversation_id: {} })],
  ['converse: conversation_id with a NUL', post('/converse', { query: 'hi', conversation_id: 'a\u0000b' })],
  ['converse: conversation_id in Chinese', post('/converse', { query: 'hi', conversation_id: '会话' })],
  ['converse: conversation_id with an emoji', post('/converse', { query: 'hi', conversation_id: 'c-😀' })],
  ['converse: conversation_id a lone surrogate', postRaw('/converse', '{"query":"hi","conversation_id":"\\udc00"}')],
  ['converse: conversation_id with a slash', post('/converse', { query: 'hi', conversation_id: '../etc' })],
  ['converse: files a string', post('/converse', { query: 'hi', files: 'file1.txt' })],
  ['converse: files an object', post('/converse', { query: 'hi', files: { 0: 'file1.txt' } })],
  ['converse: files a number', post('/converse', { query: 'hi', files: 3 })],
  ['converse: a number in files', post('/converse', { query: 'hi', files: [3] })],
  ['converse: null in files', post('/converse', { query: 'hi', files: [null] })],
  ['converse: an object in files', post('/converse', { query: 'hi', files: [{ id: 'x' }] })],
  ['converse: an unknown file', post('/converse', { query: 'hi', files: ['never-uploaded.txt'] })],
  ['converse: a 1 MB file path', post('/converse', { query: 'hi', files: [oneMb] })],
  ['converse: a file id with a NUL', post('/converse', { query: 'hi', files: ['a\u0000b'] })],
  ['converse: 101 files', post('/converse', { query: 'hi', files: Array.from({ length: 101 }, (_, i) => `f${i}`) })],
  ['converse: response_mode a number', post('/converse', { query: 'hi', response_mode: 1 })],
  ['converse: response_mode unknown', post('/converse', { query: 'hi', response_mode: 'fast' })],
  ['converse: user a number', post('/converse', { query: 'hi', user: 1 })],
  ['converse: user_id an array', post('/converse', { query: 'hi', user_id: ['u'] })],
  ['converse: user whitespace', post('/converse', { query: 'hi', user: '  ' })],
  ['converse: user of 1 MB', post('/converse', { query: 'hi', user: oneMb })],
  ['converse: manager_id a number', post('/converse', { query: 'hi', manager_id: 9 })],
  ['converse: manager_id of 200 chars', post('/converse', { query: 'hi', manager_id: 'm'.repeat(200) })],
  ['converse: unknown agent', post('/converse', { query: 'hi', agent: 'no-such-agent' })],
  ['converse: agent a number', post('/converse', { query: 'hi', agent: 1 })],
  [
    'converse (streaming): an unknown file',
    post('/converse', { query: 'hi', files: ['never-uploaded.txt'], response_mode: 'streaming' }),
  ],
  ['converse (streaming): conversation_id a number', post('/converse', { query: 'hi', response_mode: 'streaming', conversation_id: 1 })],
  ...malformedBodies((raw, ct) => postRaw('/converse', raw, ct)).map(
    ([name, r]): [string, BadRequest] => [`converse: ${name}`, r],
  ),
];

const trpcRows: [string, BadRequest][] = [
  ['chat.send: invalid JSON', postRaw('/trpc/chat.send', '{"query": ')],
  ['chat.send: empty body', postRaw('/trpc/chat.send', '')],
  ['chat.send: JSON array', post('/trpc/chat.send', ['hi'])],
  ['chat.send: text/plain', postRaw('/trpc/chat.send', '{"query":"hi"}', 'text/plain')],
  ['chat.send: query missing', post('/trpc/chat.send', {})],
  ['chat.send: query a number', post('/trpc/chat.send', { query: 1 })],
  ['chat.send: query empty', post('/trpc/chat.send', { query: '' })],
  ['chat.send: query of 1 000 000 chars', post('/trpc/chat.send', { query: oneMb })],
  ['chat.send: conversationId a number', post('/trpc/chat.send', { query: 'hi', conversationId: 5 })],
  ['chat.send: conversationId with a NUL', post('/trpc/chat.send', { query: 'hi', conversationId: 'a\u0000b' })],
  ['chat.send: files a string', post('/trpc/chat.send', { query: 'hi', files: 'a.txt' })],
  ['chat.send: files an object', post('/trpc/chat.send', { query: 'hi', files: { a: 1 } })],
  ['chat.send: an unknown file', post('/trpc/chat.send', { query: 'hi', files: ['never-uploaded.txt'] })],
  ['chat.send: an unknown key', post('/trpc/chat.send', { query: 'hi', response_mode: 'blocking' })],
  ['chat.send: deeply nested', postRaw('/trpc/chat.send', `{"query":${deepArray}}`)],
  ['chat.send: over the body limit', post('/trpc/chat.send', { query: '会'.repeat(MB) })],
  ['chat.send: as GET', get('/trpc/chat.send')],
  ['conversations.get: id a number', get(`/trpc/conversations.get${trpcInput({ id: 123 })}`)],
  ['conversations.get: id null', get(`/trpc/conversations.get${trpcInput({ id: null })}`)],
  ['conversations.get: id an array', get(`/trpc/conversations.get${trpcInput({ id: ['a'] })}`)],
  ['conversations.get: id an object', get(`/trpc/conversations.get${trpcInput({ id: {} })}`)],
  ['conversations.get: id missing', get(`/trpc/conversations.get${trpcInput({})}`)],
  ['conversations.get: no input', get('/trpc/conversations.get')],
  ['conversations.get: input not JSON', get('/trpc/conversations.get?input=%7Bnope')],
  ['conversations.get: input an array', get(`/trpc/conversations.get${trpcInput([1])}`)],
  ['conversations.get: id with a NUL', get(`/trpc/conversations.get${trpcInput({ id: 'a\u0000b' })}`)],
  ['conversations.get: id in Chinese', get(`/trpc/conversations.get${trpcInput({ id: '会话' })}`)],
  ['conversations.get: user a number', get(`/trpc/conversations.get${trpcInput({ id: 'x', user: 5 })}`)],
  ['conversations.get: an unknown key', get(`/trpc/conversations.get${trpcInput({ id: 'x', extra: true })}`)],
  ['conversations.get: unknown id', get(`/trpc/conversations.get${trpcInput({ id: 'never-existed' })}`)],
  ['messages.list: conversationId an object', get(`/trpc/messages.list${trpcInput({ conversationId: {} })}`)],
  ['no such procedure', get('/trpc/no.such.procedure')],
];

const hi = [{ role: 'user', content: 'hi' }];
const completion = (extra: Record<string, unknown>) => post('/v1/chat/completions', { model: 'local', messages: hi, ...extra });

/** OpenAI's routes: `{error: {message, type, param, code}}`; `param` names the field when one is at fault. */
const openaiRows: [string, BadRequest, string?][] = [
  ['completions: model missing', post('/v1/chat/completions', { messages: hi }), 'model'],
  ['completions: unknown model', completion({ model: 'gpt-4o' }), 'model'],
  ['completions: model a number', completion({ model: 4 }), 'model'],
  ['completions: messages missing', post('/v1/chat/completions', { model: 'local' }), 'messages'],
  ['completions: messages empty', completion({ messages: [] }), 'messages'],
  ['completions: messages a string', completion({ messages: 'hi' }), 'messages'],
  ['completions: a message without role', completion({ messages: [{ content: 'hi' }] }), 'messages[0].role'],
  ['completions: a tool message', completion({ messages: [{ role: 'tool', content: 'x', tool_call_id: 't' }] }), 'messages[0].role'],
  ['completions: content a number', completion({ messages: [{ role: 'user', content: 5 }] }), 'messages[0].content'],
  ['completions: an image part', completion({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:,' } }] }] }), 'messages[0].content'],
  ['completions: an audio part', completion({ messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: '', format: 'wav' } }] }] }), 'messages[0].content'],
  ['completions: last message not the user’s', completion({ messages: [...hi, { role: 'assistant', content: 'x' }] }), 'messages[1].role'],
  ['completions: empty question', completion({ messages: [{ role: 'user', content: '   ' }] }), 'messages[0].content'],
  ['completions: a NUL in the question', completion({ messages: [{ role: 'user', content: 'a\u0000b' }] })],
  ['completions: question of 1 000 000 chars', completion({ messages: [{ role: 'user', content: oneMb }] })],
  ['completions: n = 2', completion({ n: 2 }), 'n'],
  ['completions: tools', completion({ tools: [{ type: 'function', function: { name: 'f' } }] }), 'tools'],
  ['completions: tool_choice', completion({ tool_choice: 'auto' }), 'tool_choice'],
  ['completions: functions', completion({ functions: [{ name: 'f' }] }), 'functions'],
  ['completions: audio', completion({ audio: { voice: 'alloy', format: 'wav' } }), 'audio'],
  ['completions: modalities with audio', completion({ modalities: ['text', 'audio'] }), 'modalities[1]'],
  ['completions: logprobs', completion({ logprobs: true }), 'logprobs'],
  ['completions: response_format json', completion({ response_format: { type: 'json_object' } }), 'response_format.type'],
  ['completions: an unknown argument', completion({ frobnicate: 1 }), 'frobnicate'],
  ['completions: stream a string', completion({ stream: 'yes' }), 'stream'],
  ['completions: temperature out of range', completion({ temperature: 9 }), 'temperature'],
  ['completions: metadata values not strings', completion({ metadata: { conversation_id: 5 } }), 'metadata.conversation_id'],
  ['completions: conversation id with a NUL', completion({ metadata: { conversation_id: 'a\u0000b' } })],
  ['completions: user a number', completion({ user: 5 }), 'user'],
  ['completions (streaming): an unknown model', completion({ model: 'nope', stream: true }), 'model'],
  ...malformedBodies((raw, ct) => postRaw('/v1/chat/completions', raw, ct)).map(([name, r]): [string, BadRequest] => [`completions: ${name}`, r]),
  ['models: unknown model', get('/v1/models/gpt-4o'), 'model'],
  ['models: unknown path', get('/v1/models/a/b')],
];

/** Dify's routes: `{code, message, status}`. */
const difyRows: [string, BadRequest, string?][] = [
  ['chat: query missing', post('/v1/chat-messages', { inputs: {}, user: 'u' }), 'invalid_param'],
  ['chat: query empty', post('/v1/chat-messages', { query: ' ', user: 'u' }), 'invalid_param'],
  ['chat: query a number', post('/v1/chat-messages', { query: 5, user: 'u' }), 'invalid_param'],
  ['chat: query of 1 000 000 chars', post('/v1/chat-messages', { query: oneMb, user: 'u' })],
  ['chat: inputs an array', post('/v1/chat-messages', { query: 'hi', inputs: [1], user: 'u' }), 'invalid_param'],
  ['chat: inputs over 16 KB', post('/v1/chat-messages', { query: 'hi', inputs: { big: 'x'.repeat(20_000) }, user: 'u' }), 'invalid_param'],
  ['chat: response_mode unknown', post('/v1/chat-messages', { query: 'hi', response_mode: 'fast', user: 'u' }), 'invalid_param'],
  ['chat: unknown conversation', post('/v1/chat-messages', { query: 'hi', conversation_id: 'never-made', user: 'u' }), 'not_found'],
  ['chat (streaming): unknown conversation', post('/v1/chat-messages', { query: 'hi', conversation_id: 'never-made', response_mode: 'streaming', user: 'u' }), 'not_found'],
  ['chat: conversation_id with a NUL', post('/v1/chat-messages', { query: 'hi', conversation_id: 'a\u0000b', user: 'u' })],
  ['chat: files a string', post('/v1/chat-messages', { query: 'hi', files: 'a.txt', user: 'u' }), 'invalid_param'],
  ['chat: a remote_url file', post('/v1/chat-messages', { query: 'hi', files: [{ type: 'image', transfer_method: 'remote_url', url: 'https://example.com/a.png' }], user: 'u' }), 'invalid_param'],
  ['chat: a local_file without id', post('/v1/chat-messages', { query: 'hi', files: [{ type: 'document', transfer_method: 'local_file' }], user: 'u' }), 'invalid_param'],
  ['chat: an unknown file', post('/v1/chat-messages', { query: 'hi', files: [{ type: 'document', transfer_method: 'local_file', upload_file_id: 'never-uploaded' }], user: 'u' }), 'invalid_param'],
  ['chat: user a number', post('/v1/chat-messages', { query: 'hi', user: 5 }), 'invalid_param'],
  ['chat: user with a NUL', post('/v1/chat-messages', { query: 'hi', user: 'eve\u0000' })],
  ['chat: unknown agent header', { ...post('/v1/chat-messages', { query: 'hi', user: 'u' }), headers: { 'x-colloquy-agent': 'nope' } }, 'invalid_param'],
  ...malformedBodies((raw, ct) => postRaw('/v1/chat-messages', raw, ct)).map(([name, r]): [string, BadRequest] => [`chat: ${name}`, r]),
  ['stop: unknown task', post('/v1/chat-messages/never-ran/stop', { user: 'u' }), 'not_found'],
  ['stop: user a number', post('/v1/chat-messages/x/stop', { user: 5 }), 'invalid_param'],
  ['conversations: limit 0', get('/v1/conversations?user=u&limit=0'), 'invalid_param'],
  ['conversations: limit not a number', get('/v1/conversations?user=u&limit=abc'), 'invalid_param'],
  ['conversations: sort_by created_at', get('/v1/conversations?user=u&sort_by=created_at'), 'invalid_param'],
  ['conversations: unknown last_id', get('/v1/conversations?user=u&last_id=nope'), 'invalid_param'],
  ['delete: unknown conversation', del('/v1/conversations/never-made', { user: 'u' }), 'not_found'],
  ['delete: user an object', del('/v1/conversations/x', { user: {} }), 'invalid_param'],
  ['rename: neither name nor auto_generate', post('/v1/conversations/x/name', { user: 'u' }), 'invalid_param'],
  ['rename: name a number', post('/v1/conversations/x/name', { name: 5, user: 'u' }), 'invalid_param'],
  ['rename: unknown conversation', post('/v1/conversations/never-made/name', { name: 'n', user: 'u' }), 'not_found'],
  ['messages: conversation_id missing', get('/v1/messages?user=u'), 'invalid_param'],
  ['messages: unknown conversation', get('/v1/messages?user=u&conversation_id=never-made'), 'not_found'],
  ['messages: limit 500', get('/v1/messages?user=u&conversation_id=x&limit=500'), 'invalid_param'],
  ['upload: not multipart', post('/v1/files/upload', { file: 'a.txt' }), 'no_file_uploaded'],
  ['upload: no file part', postRaw('/v1/files/upload', '--b\r\nContent-Disposition: form-data; name="user"\r\n\r\nu\r\n--b--\r\n', 'multipart/form-data; boundary=b'), 'no_file_uploaded'],
  ['upload: a truncated body', postRaw('/v1/files/upload', '--b\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nabc', 'multipart/form-data; boundary=b'), 'no_file_uploaded'],
  ['an unknown /v1 path', get('/v1/completions'), 'not_found'],
];

/**
 * Subscriptions (SSE): bad input is a 400 before any stream starts (issue 11), never a 200
 * stream carrying an error event.
 */
const subscriptionRows: [string, string, Record<string, string>?][] = [
  ['chat.events: messageId a number', `/trpc/chat.events${trpcInput({ messageId: 5 })}`],
  ['chat.events: messageId missing', `/trpc/chat.events${trpcInput({})}`],
  ['chat.events: no input', '/trpc/chat.events'],
  ['chat.events: input not JSON', '/trpc/chat.events?input=%7Bnope'],
  ['chat.events: an unknown key', `/trpc/chat.events${trpcInput({ messageId: 'm', extra: 1 })}`],
  ['chat.events: lastEventId not a number', `/trpc/chat.events${trpcInput({ messageId: 'm', lastEventId: 'abc' })}`],
  ['chat.events: Last-Event-Id header not a number', `/trpc/chat.events${trpcInput({ messageId: 'm' })}`, { 'last-event-id': 'abc' }],
  ['clients.connect: clientId with spaces', `/trpc/clients.connect${trpcInput({ clientId: 'a b' })}`],
  ['clients.connect: metadata over 2 KB', `/trpc/clients.connect${trpcInput({ metadata: { big: 'x'.repeat(3000) } })}`],
  ['clients.watch: user empty', `/trpc/clients.watch${trpcInput({ user: '' })}`],
];

async function send(url: string, r: BadRequest) {
  const headers = r.headers ?? {};
  if (r.raw !== undefined) {
    return requestJson(`${url}${r.path}`, { method: r.method, rawBody: r.raw, headers: { 'content-type': r.contentType ?? 'application/json', ...headers } });
  }
  if (r.json !== undefined) return requestJson(`${url}${r.path}`, { method: r.method, body: r.json, headers });
  return requestJson(`${url}${r.path}`, { method: r.method, headers });
}

const where = (res: Awaited<ReturnType<typeof requestJson>>) =>
  `status ${res.status}, content-type ${res.headers.get('content-type')}, body ${JSON.stringify(res.text.slice(0, 300))}`;

function expectClientError(res: Awaited<ReturnType<typeof requestJson>>) {
  expect(res.status, where(res)).toBeGreaterThanOrEqual(400);
  expect(res.status, where(res)).toBeLessThan(500);
  expect(res.headers.get('content-type') ?? '', where(res)).toMatch(/^application\/json/);
  expect(res.body, where(res)).toBeTypeOf('object');
  expect(res.body, where(res)).not.toBeNull();
  expect(res.text, where(res)).not.toMatch(/\n\s+at .+:\d+:\d+/);
}

describe('bad inputs', () => {
  const server = useServer();

  it.each(restRows)('REST %s → 4xx JSON {message, error}', async (_name, r) => {
    const res = await send(server().url, r);
    expectClientError(res);
    const body = res.body as Json;
    expect(typeof body.message, where(res)).toBe('string');
    expect(body.message.length, where(res)).toBeGreaterThan(0);
    expect(typeof body.error, where(res)).toBe('string');
  });

  // tRPC keeps its own wire format: `{error: {message, code, data: {httpStatus, ...}}}`.
  it.each(trpcRows)('tRPC %s → 4xx JSON with error.message', async (_name, r) => {
    const res = await send(server().url, r);
    expectClientError(res);
    const error = (res.body as Json).error;
    expect(typeof error?.message, where(res)).toBe('string');
    expect(error.data?.httpStatus, where(res)).toBe(res.status);
  });

  it.each(openaiRows)('OpenAI %s → 4xx JSON {error: {message, type, param, code}}', async (_name, r, param) => {
    const res = await send(server().url, r);
    expectClientError(res);
    const error = (res.body as Json).error;
    expect(Object.keys(error ?? {}).sort(), where(res)).toEqual(['code', 'message', 'param', 'type']);
    expect(typeof error.message, where(res)).toBe('string');
    expect(typeof error.type, where(res)).toBe('string');
    if (param !== undefined) expect(error.param, where(res)).toBe(param);
  });

  it.each(difyRows)('Dify %s → 4xx JSON {code, message, status}', async (_name, r, code) => {
    const res = await send(server().url, r);
    expectClientError(res);
    const body = res.body as Json;
    expect(Object.keys(body).sort(), where(res)).toEqual(['code', 'message', 'status']);
    expect(body.status, where(res)).toBe(res.status);
    expect(typeof body.message, where(res)).toBe('string');
    if (code !== undefined) expect(body.code, where(res)).toBe(code);
  });

  it.each(subscriptionRows)('tRPC subscription %s → 400 JSON before any stream', async (_name, path, headers = {}) => {
    const res = await requestJson(`${server().url}${path}`, { headers: { accept: 'text/event-stream', ...headers } });
    expectClientError(res);
    expect(res.status, where(res)).toBe(400);
    const error = (res.body as Json).error;
    expect(error.data, where(res)).toMatchObject({ code: 'BAD_REQUEST', httpStatus: 400 });
    expect(typeof error.message).toBe('string');
  });

  it('is healthy afterwards and stored nothing', async () => {
    const s = server();
    const health = await requestJson(`${s.url}/healthz`);
    expect(health.status).toBe(200);

    const list = await listConversations(s.url, { limit: 100 });
    expect(list.status).toBe(200);
    expect((list.body as Json).data).toEqual([]);
    expect(await storedFiles(s.url)).toEqual([]);
    expect(countBlobs(dataDirOf(s))).toBe(0);
  });

  it('still runs a valid turn afterwards', async () => {
    const res = await requestJson(`${server().url}/converse`, { body: { query: 'Are you still there?', user: 'survivor' } });
    expect(res.status, res.text.slice(0, 300)).toBe(200);
    expect((res.body as Json).answer.length).toBeGreaterThan(0);
  });
});

describe('control characters in user ids', () => {
  const server = useServer();

  // User ids are stored and shown (lists, logs, headers); NUL and escape sequences are not names.
  it.each([
    ['converse: user with a NUL', post('/converse', { query: 'hi', user: 'eve\u0000admin' })],
    ['converse: user_id with an escape sequence', post('/converse', { query: 'hi', user_id: 'eve\u001b[2J' })],
    ['upload: user with a NUL', post('/upload_files', { file_paths: ['a.txt'], user: 'eve\u0000admin' })],
  ])('%s → 4xx JSON {message, error}, nothing stored', async (_name, r) => {
    const s = server();
    s.writeInbox('a.txt', 'A valid file.');
    const res = await send(s.url, r);
    expectClientError(res);
    expect(typeof (res.body as Json).message).toBe('string');
    expect((await listConversations(s.url, { limit: 100 })).body).toMatchObject({ data: [] });
    expect(await storedFiles(s.url)).toEqual([]);
  });
});
