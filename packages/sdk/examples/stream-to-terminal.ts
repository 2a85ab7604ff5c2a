// Streams an answer to stdout as it is generated.
//
//   pnpm start                                   # in another terminal: the server
//   npx tsx packages/sdk/examples/stream-to-terminal.ts "How long do cats sleep?" cats.txt
//
// Files are server paths inside UPLOAD_ROOTS (default ./data/inbox), uploaded before asking.
// Each run starts a new conversation; the process exits by itself when the answer is done.
import { ColloquyError, createClient } from '../src/index.ts';

const [query = 'What can you tell me about my documents?', ...paths] = process.argv.slice(2);
const client = createClient({
  baseUrl: process.env.COLLOQUY_URL ?? 'http://localhost:5000',
  apiKey: process.env.COLLOQUY_API_KEY,
  user: process.env.COLLOQUY_USER,
});

try {
  const files = paths.length > 0 ? await client.files.uploadPaths(paths) : [];
  const stream = client.stream({ query, files: files.map((f) => f.id), newConversation: true });
  // Ctrl-C stops the generation on the server too, keeping what was written so far.
  process.once('SIGINT', () => void stream.stop());
  for await (const event of stream) {
    if (event.event === 'message') process.stdout.write(event.answer);
    if (event.event === 'error') process.stderr.write(`\n[error] ${event.message}\n`);
  }
  const answer = await stream.final();
  const sources = answer.citations.map((c) => c.fileName).join(', ');
  process.stdout.write(`\n\n[${answer.status}]${sources ? ` sources: ${sources}` : ''} conversation ${answer.conversationId}\n`);
} catch (err) {
  console.error(err instanceof ColloquyError ? `${err.name} (${err.status}): ${err.message}${err.requestId ? ` [request ${err.requestId}]` : ''}` : err);
  process.exitCode = 1;
}
