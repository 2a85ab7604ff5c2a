// A short Node script using the SDK as a new user would, without calling close(): it must exit
// by itself once its last call is done. Run as `node --import tsx short-script.ts <url> <mode>`;
// prints `LAST_CALL_DONE <epoch ms>` after its last call.
import { AbortError, createClient, RateLimitError, TimeoutError } from '../../src/index.ts';

const [url = '', mode = 'calls'] = process.argv.slice(2);
const client = createClient({ baseUrl: url, user: `script-${mode}` });

if (mode === 'calls') {
  // The reproduction: a script that only lists conversations.
  await client.conversations.list();
} else if (mode === 'turns') {
  await client.files.uploadPaths(['cats.txt']);
  const answer = await client.converse({ query: 'How long do cats sleep?', files: ['cats.txt'], newConversation: true });
  const stream = client.stream({ query: 'Do they purr?', conversationId: answer.conversationId });
  for await (const ev of stream) void ev;
  await client.resume(answer.messageId, { lastEventId: '2' }).final();
  for await (const c of client.conversations.iterate()) void c;
} else if (mode === 'failures') {
  // Timeouts, aborts and a refused Retry-After wait leave no timer or socket behind.
  const timedOut = await client.converse({ query: 'Tell me everything about cats at length', files: ['cats.txt'] }, { timeoutMs: 1 }).catch((e: unknown) => e);
  if (!(timedOut instanceof TimeoutError)) throw new Error(`expected a TimeoutError, got ${String(timedOut)}`);
  const aborted = await client.agents.list({ signal: AbortSignal.abort() }).catch((e: unknown) => e);
  if (!(aborted instanceof AbortError)) throw new Error(`expected an AbortError, got ${String(aborted)}`);
  const stream = client.stream({ query: 'cats' }, { timeoutMs: 60_000 });
  await stream.messageId;
  stream.abort();
  await client.resume(await stream.messageId).final();
  void RateLimitError;
} else if (mode === 'presence') {
  // Presence on: the connection holds the process until close().
  const listed = createClient({ baseUrl: url, user: 'script-presence', name: 'short script' });
  await listed.clients.ready();
  await listed.clients.list();
  await listed.close();
} else {
  throw new Error(`unknown mode ${mode}`);
}
console.log(`LAST_CALL_DONE ${Date.now()}`);
