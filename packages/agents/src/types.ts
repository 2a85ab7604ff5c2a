/**
 * The agent contract. The turn service in @colloquy/api hands an agent everything it needs
 * (history, the files' text, an AbortSignal) and stores what comes back; agents never touch
 * the store.
 */

export interface AgentUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

export interface AgentCitation {
  fileId: string | null;
  fileName: string;
  passage: string;
  score: number;
}

export interface AgentFile {
  id: string;
  name: string;
  mimeType: string;
  /** Extracted plain text; empty when the file type has no extractor. */
  text: string;
  /** Ids this file already has at upstream agents, keyed by agent id. */
  upstreamIds: Record<string, string>;
}

export interface AgentHistoryMessage {
  /** `system`: instructions a client sent along as history (OpenAI-style requests). */
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface AgentTurn {
  conversationId: string;
  messageId: string;
  userId: string;
  query: string;
  /**
   * Earlier messages, oldest first (the current query excluded): the stored conversation's, or
   * the ones the request sent (an OpenAI-style `messages` array, system messages included).
   */
  history: AgentHistoryMessage[];
  /**
   * App inputs (Dify's `inputs`) the conversation was started with; Dify agents send them
   * upstream over their configured ones. Empty when none.
   */
  inputs?: Record<string, unknown>;
  /** Files attached to this turn. */
  files: AgentFile[];
  /** Files attached earlier in the conversation (not repeated in `files`). */
  conversationFiles: AgentFile[];
  /** The upstream conversation id the agent returned on an earlier turn, if any. */
  upstreamConversationId: string | null;
  /**
   * Aborting it stops the turn: agents abort their upstream request at once and, where the
   * upstream has one, call its stop endpoint (Dify: POST /chat-messages/:task_id/stop).
   */
  signal: AbortSignal;
  /**
   * Called (and awaited) once for each file an agent uploaded to its upstream during this turn,
   * with the id the upstream gave it. The caller stores it, e.g.
   * `store.files.setUpstreamId(fileId, agent.info.id, upstreamId)`, and passes it back in
   * `AgentFile.upstreamIds` on later turns so the file is not uploaded again.
   */
  onFileUploaded?: (fileId: string, upstreamId: string) => void | Promise<void>;
  /**
   * The raw bytes of one of the turn's files. Agents that upload files (Dify) need it for files
   * without an upstream id yet; without it such a turn fails with a clear error.
   */
  fileData?: (fileId: string) => Promise<Uint8Array>;
}

/** What an agent yields. The turn service adds ids, conversation and message ids. */
export type AgentEvent =
  | { event: 'message'; answer: string }
  | { event: 'agent_thought'; thought: string; tool?: string }
  | { event: 'message_file'; fileId: string; url?: string; type?: string }
  | { event: 'message_replace'; answer: string }
  | { event: 'message_end'; usage?: AgentUsage; citations?: AgentCitation[] }
  | { event: 'upstream_conversation'; upstreamConversationId: string }
  | { event: 'ping' };

export interface AgentInfo {
  id: string;
  type: 'local' | 'dify' | 'openai';
  description: string;
}

export interface Agent {
  readonly info: AgentInfo;
  /**
   * How much stored history the agent can use: it keeps at most this many characters of the
   * newest messages (see openai/history.ts), so the caller reads the conversation newest first
   * and stops there. 0: it sends no history (the upstream keeps its own, or there is none).
   * Absent: the whole history.
   */
  readonly historyBudgetChars?: number;
  /**
   * Runs one turn. Yields events as they arrive; ends after `message_end`. Throws on upstream
   * failure (the partial text already yielded is kept by the caller). Must stop promptly,
   * throwing or returning, once `turn.signal` aborts.
   */
  run(turn: AgentTurn): AsyncIterable<AgentEvent>;
  /** Whether the agent can currently serve turns (local: always). */
  checkReachable(): Promise<boolean>;
}
