import type { AgentFile, AgentHistoryMessage, AgentTurn } from '@colloquy/agents';
import type { FileRecord, MessageRecord, Store } from '@colloquy/store';
import type { BlobStore } from '../blob-store.ts';
import type { HistoryWindows } from './history-window.ts';

/** What a turn's agent run needs from its set-up (and no longer keeps once the agent has it). */
export interface TurnSetup {
  userMessage: MessageRecord;
  files: FileRecord[];
  /** The upstream's own conversation id, when continuing with the same agent. */
  upstreamId: string | null;
  /** A new conversation has no history to load. */
  newConversation: boolean;
  /** The request's history (an OpenAI-style client's), which replaces the stored one. */
  history?: AgentHistoryMessage[];
  /** The conversation's app inputs (Dify's `inputs`). */
  inputs?: Record<string, unknown>;
}

export interface AgentContextDeps {
  store: Store;
  /** File contents, for agents that upload files to their upstream. */
  blobs: BlobStore;
  /** The conversations' history windows kept between turns. */
  historyWindows: HistoryWindows;
}

/**
 * The agent's view of a turn: the query, the stored history before it (for a continued
 * conversation), the turn's files and the conversation's earlier ones, and — only when there are
 * files — the callbacks for agents that upload them (Dify).
 */
export async function buildAgentTurn(
  deps: AgentContextDeps,
  ids: { conversationId: string; messageId: string; userId: string; agentId: string },
  setup: TurnSetup,
  signal: AbortSignal,
  /** The agent's `historyBudgetChars` (absent: the whole history). */
  historyBudgetChars?: number,
): Promise<AgentTurn> {
  const { userMessage, files } = setup;
  // A request's own history replaces the stored one: none of it is read then.
  const budget = setup.history ? 0 : historyBudgetChars;
  const stored = setup.newConversation
    ? { history: [], conversationFiles: [] }
    : await loadContext(deps, ids.userId, ids.conversationId, userMessage, files, budget);
  const { conversationFiles } = stored;
  const turn: AgentTurn = {
    conversationId: ids.conversationId,
    messageId: ids.messageId,
    userId: ids.userId,
    query: userMessage.content,
    history: setup.history ?? stored.history,
    inputs: setup.inputs ?? {},
    files: files.map(toAgentFile),
    conversationFiles: conversationFiles.map(toAgentFile),
    upstreamConversationId: setup.upstreamId,
    signal,
  };
  // Only a turn with files has anything to upload or read: no callbacks to keep otherwise.
  if (files.length > 0 || conversationFiles.length > 0) Object.assign(turn, fileAccess(deps, ids.agentId, files, conversationFiles));
  return turn;
}

/**
 * What is stored before this turn's user message: the history the agent can use (the newest
 * messages that fit its `historyBudgetChars`, as its own trim counts them) and the files attached
 * earlier — from the conversation's window kept between turns (history-window.ts), so a turn's
 * cost does not grow with the conversation.
 */
async function loadContext(
  deps: AgentContextDeps,
  owner: string,
  conversationId: string,
  current: MessageRecord,
  turnFiles: FileRecord[],
  historyBudgetChars: number = Number.POSITIVE_INFINITY,
) {
  const { history, fileIdLists } = await deps.historyWindows.read(owner, conversationId, current, historyBudgetChars);
  const seen = new Set(turnFiles.map((f) => f.id));
  const conversationFiles: FileRecord[] = [];
  for (const ids of fileIdLists) {
    for (const id of ids) {
      if (seen.has(id)) continue;
      seen.add(id);
      const f = await deps.store.files.get(id);
      if (f) conversationFiles.push(f);
    }
  }
  return { history, conversationFiles };
}

/** The turn callbacks agents that upload files use (Dify). */
function fileAccess(
  deps: AgentContextDeps,
  agentId: string,
  files: FileRecord[],
  conversationFiles: FileRecord[],
): Pick<AgentTurn, 'onFileUploaded' | 'fileData'> {
  return {
    // Upstream file ids are kept per agent so a file is uploaded to each upstream once.
    onFileUploaded(fileId, upstreamId) {
      return deps.store.files.setUpstreamId(fileId, agentId, upstreamId);
    },
    async fileData(fileId) {
      const file = files.find((f) => f.id === fileId) ?? conversationFiles.find((f) => f.id === fileId);
      if (!file) throw new Error(`file ${fileId} is not part of this conversation`);
      return deps.blobs.read(file.sha256);
    },
  };
}

function toAgentFile(f: FileRecord): AgentFile {
  return { id: f.id, name: f.name, mimeType: f.mimeType, text: f.text, upstreamIds: f.upstreamIds };
}
