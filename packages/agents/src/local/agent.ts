import { sleep, throwIfAborted } from '../abort.ts';
import type { Agent, AgentCitation, AgentEvent, AgentFile, AgentTurn } from '../types.ts';
import { composeAnswer, composeNoAnswer } from './answer.ts';
import { splitDeltas } from './deltas.ts';
import { splitPassages } from './passages.ts';
import { searchPassages } from './search.ts';
import { countTokens, hasCjk } from './tokenize.ts';

export interface LocalAgentOptions {
  /** Agent id; default 'local'. */
  id?: string;
  /** Pause between answer deltas, in ms; default 0. */
  deltaDelayMs?: number;
  /** How many passages to quote at most; default 3. */
  maxPassages?: number;
}

/**
 * The offline agent: answers by quoting the passages of the conversation's files that best
 * match the query. Deterministic: the same turn always yields the same events.
 */
export function createLocalAgent(options: LocalAgentOptions = {}): Agent {
  const deltaDelayMs = Math.max(0, options.deltaDelayMs ?? 0);
  const maxPassages = Math.max(1, Math.floor(options.maxPassages ?? 3));
  return {
    info: {
      id: options.id ?? 'local',
      type: 'local',
      description: 'Offline agent that answers by quoting the most relevant passages of your documents.',
    },
    // It answers from the files alone.
    historyBudgetChars: 0,
    run: (turn) => runTurn(turn, deltaDelayMs, maxPassages),
    checkReachable: () => Promise.resolve(true),
  };
}

async function* runTurn(turn: AgentTurn, deltaDelayMs: number, maxPassages: number): AsyncGenerator<AgentEvent> {
  const { signal } = turn;
  throwIfAborted(signal);
  const language = hasCjk(turn.query) ? 'zh' : 'en';
  const files = uniqueFiles([...turn.files, ...turn.conversationFiles]);
  const passages = splitPassages(files);
  const hits = searchPassages(passages, turn.query, maxPassages);
  const answer =
    hits.length > 0 ? composeAnswer(language, hits) : composeNoAnswer(language, files, passages.length > 0);

  const deltas = splitDeltas(answer);
  for (let i = 0; i < deltas.length; i++) {
    if (i > 0 && deltaDelayMs > 0) await sleep(deltaDelayMs, signal);
    throwIfAborted(signal);
    yield { event: 'message', answer: deltas[i]! };
  }
  throwIfAborted(signal);

  const promptTokens = countTokens(turn.query) + hits.reduce((n, h) => n + countTokens(h.text), 0);
  const completionTokens = countTokens(answer);
  const citations: AgentCitation[] = hits.map((h) => ({
    fileId: h.fileId,
    fileName: h.fileName,
    passage: h.text,
    score: Math.round(h.score * 1000) / 1000,
  }));
  yield {
    event: 'message_end',
    usage: { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens },
    citations,
  };
}

function uniqueFiles(files: AgentFile[]): AgentFile[] {
  const byId = new Map<string, AgentFile>();
  for (const f of files) if (!byId.has(f.id)) byId.set(f.id, f);
  return [...byId.values()];
}
