import type { AgentFile, AgentHistoryMessage, AgentTurn } from '@colloquy/agents';
import type { FileRecord, MessageRecord, Store } from '@colloquy/store';
import type { BlobStore } from '../blob-store.ts';

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
): Promise<AgentTurn> {
  const { userMessage, files } = setup;
  const stored = setup.newConversation
    ? { history: [], conversationFiles: [] }
    : await loadContext(deps.store, ids.userId, ids.conversationId, userMessage, files);
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

/** Everything stored before this turn's user message: history and the files attached earlier. */
export async function loadContext(store: Store, owner: string, conversationId: string, current: MessageRecord, turnFiles: FileRecord[]) {
  const all = await store.messages.listAll(owner, conversationId);
  // listAll is in insertion order.
  const earlier = all.slice(0, Math.max(0, all.findIndex((m) => m.id === current.id)));
  const history = earlier
    .filter((m) => m.content.length > 0 && m.status !== 'streaming')
    .map((m) => ({ role: m.role, content: m.content }));
  const seen = new Set(turnFiles.map((f) => f.id));
  const conversationFiles: FileRecord[] = [];
  for (const m of earlier) {
    for (const id of m.fileIds) {
      if (seen.has(id)) continue;
      seen.add(id);
      const f = await store.files.get(id);
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
