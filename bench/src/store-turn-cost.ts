/**
 * The store's CPU per turn, in process: `concurrency` callers each run turns as the server does
 * (beginTurn, then the final update of the answer) on a fresh SQLite file, and the process's CPU
 * time (user + system) is divided by the turns. Used for the group-commit A/B (bench/README.md):
 *
 *   node --import tsx bench/src/store-turn-cost.ts [--root=<checkout>] [--turns=5000] [--concurrency=50] [--driver=auto]
 *
 * `--root` takes the store of another checkout (a worktree of main) for a same-host A/B.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { MessageRecord, Store } from '@colloquy/store';

const arg = (name: string, fallback: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const root = resolve(arg('root', fileURLToPath(new URL('../..', import.meta.url))));
const turns = Number(arg('turns', '5000'));
const concurrency = Number(arg('concurrency', '50'));
const driver = arg('driver', 'auto');

const { openSqliteStore } = (await import(pathToFileURL(join(root, 'packages/store/src/index.ts')).href)) as {
  openSqliteStore(o: { filename: string; driver?: string }): Promise<Store>;
};
const dir = mkdtempSync(join(tmpdir(), 'colloquy-turn-cost-'));

const message = (conversationId: string, role: 'user' | 'assistant', now: number): MessageRecord => ({
  id: randomUUID(),
  userId: 'bench',
  conversationId,
  role,
  content: role === 'user' ? 'What is the capital of France?' : '',
  fileIds: [],
  status: role === 'user' ? 'complete' : 'streaming',
  usage: null,
  citations: [],
  error: null,
  lastEventId: 0,
  createdAt: now,
  updatedAt: now,
});

async function turn(store: Store): Promise<void> {
  const id = randomUUID();
  const now = Date.now();
  const assistant = message(id, 'assistant', now);
  await store.beginTurn({
    conversation: { create: { id, userId: 'bench', agentId: 'openai', name: 'What is the capital', managerId: null, upstreamId: null, inputs: {}, createdAt: now, updatedAt: now } },
    userMessage: message(id, 'user', now),
    assistantMessage: assistant,
  });
  await store.messages.update(assistant.id, {
    content: 'The capital of France is Paris.',
    status: 'complete',
    usage: { promptTokens: 12, completionTokens: 8, totalTokens: 20 },
    citations: [],
    error: null,
    lastEventId: 3,
    updatedAt: Date.now(),
  });
}

try {
  const store = await openSqliteStore({ filename: join(dir, 'bench.sqlite'), driver });
  // Warm-up: statements prepared, JIT settled.
  for (let i = 0; i < 500; i++) await turn(store);
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < turns) await turn(store);
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - t0;
  await store.close();
  const cpuMs = (cpu.user + cpu.system) / 1000;
  console.log(JSON.stringify({ root, driver, turns, concurrency, cpuMsPerTurn: +(cpuMs / turns).toFixed(4), wallMsPerTurn: +(wall / turns).toFixed(4) }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
