import { randomUUID } from 'node:crypto';
import type { Agent, AgentHistoryMessage } from '@colloquy/agents';
import type { ConversationRecord, FileRecord, MessageRecord, Store } from '@colloquy/store';
import type { Actor } from '../../access.ts';
import type { ApiConfig } from '../api-config.ts';
import { AppError, notFound } from '../../errors/app-error.ts';
import type { AgentRegistry } from '../agent-registry.ts';
import { lookupConversation } from '../conversation-lookup.ts';
import { nameFromQuery } from '../conversation-name.ts';
import type { TurnSetup } from './agent-context.ts';
import type { GenerationLimiter } from './generation-limiter.ts';

export interface TurnInput {
  actor: Actor;
  query: string;
  conversationId?: string;
  /** File ids, or the path strings used at upload. */
  files?: string[];
  agentId?: string;
  managerId?: string;
  /** Continuing a conversation with a different `managerId` is a 409 (tRPC) rather than ignored (REST). */
  managerIdMustMatch?: boolean;
  /** The assistant message's id, chosen by the client (a UUID); one already in use is a 409. */
  messageId?: string;
  /**
   * `auto` (default): the given id's conversation (created if new), else the user's latest.
   * `new`: a new conversation (a given id must be unused: 409). `existing`: the given id's,
   * which must exist (404).
   */
  conversationMode?: 'auto' | 'new' | 'existing';
  /** The agent's history instead of the stored conversation's (an OpenAI-style request's). */
  history?: AgentHistoryMessage[];
  /** App inputs kept with a new conversation (Dify's `inputs`). */
  inputs?: Record<string, unknown>;
}

/** A turn stored and holding its generation slot, ready for its agent run. */
export interface PreparedTurn {
  conversationId: string;
  messageId: string;
  agent: Agent;
  /** The conversation's owner: who may read the live stream, whose generation this is. */
  owner: string;
  /** The generation slot the turn holds (its own id: a client-chosen message id may be a duplicate). */
  slotId: string;
  setup: TurnSetup;
}

export interface TurnSetupDeps {
  config: ApiConfig;
  store: Store;
  agents: AgentRegistry;
  generations: GenerationLimiter;
  /** This instance: recorded as the turn's owner (see the instance lease). */
  instanceId: string;
}

/**
 * Steps 1–4 of a turn: resolve the conversation, the agent and the files, claim the owner's
 * generation slot, and store the user message with the assistant message (`streaming`, owned by
 * this instance) in one transaction. A failure after the claim gives the slot back.
 */
export async function prepareTurn(deps: TurnSetupDeps, input: TurnInput): Promise<PreparedTurn> {
  const { store, agents } = deps;
  const { actor, query } = input;
  const conversation = await resolveConversation(store, actor, input.conversationId, input.conversationMode);
  if (conversation && input.managerIdMustMatch && input.managerId !== undefined && input.managerId !== conversation.managerId) {
    throw new AppError('CONFLICT', managerIdMismatch(conversation, input.managerId));
  }
  const agent = agents.resolve(input.agentId ?? conversation?.agentId);
  // Continuing a conversation acts as its owner (open mode may name no user).
  const owner = conversation?.userId ?? actor.owner;
  const messageId = input.messageId ?? randomUUID();
  const slotId = randomUUID();
  await deps.generations.claim(owner, slotId);
  try {
    const files = await resolveFiles(deps, actor, owner, input.files ?? []);
    const now = Date.now();
    const conversationId = conversation?.id ?? input.conversationId ?? randomUUID();
    const userMessage: MessageRecord = {
      id: randomUUID(),
      userId: owner,
      conversationId,
      role: 'user',
      content: query,
      fileIds: files.map((f) => f.id),
      status: 'complete',
      usage: null,
      citations: [],
      error: null,
      lastEventId: 0,
      createdAt: now,
      updatedAt: now,
    };
    const assistantMessage: MessageRecord = { ...userMessage, id: messageId, role: 'assistant', content: '', fileIds: [], status: 'streaming' };
    await store.beginTurn({
      conversation: conversation
        ? { touch: { userId: owner, id: conversation.id, updatedAt: now } }
        : {
            create: {
              id: conversationId,
              userId: owner,
              agentId: agent.info.id,
              name: nameFromQuery(query),
              managerId: input.managerId ?? null,
              upstreamId: null,
              inputs: input.inputs ?? {},
              createdAt: now,
              updatedAt: now,
            },
          },
      userMessage,
      assistantMessage,
      ownerInstance: deps.instanceId,
    }).catch(async (err: unknown) => {
      // The transaction wrote nothing; a client-chosen id already in use is the client's error.
      throw (await messageIdInUse(store, input.messageId)) ?? err;
    });
    const sameAgent = conversation?.agentId === agent.info.id;
    if (conversation && !sameAgent) {
      await store.conversations.update(owner, conversation.id, { agentId: agent.info.id, upstreamId: null });
    }
    return {
      conversationId,
      messageId,
      agent,
      owner,
      slotId,
      setup: {
        userMessage,
        files,
        upstreamId: conversation && sameAgent ? conversation.upstreamId : null,
        newConversation: !conversation,
        history: input.history,
        inputs: conversation?.inputs ?? input.inputs ?? {},
      },
    };
  } catch (err) {
    deps.generations.release(owner, slotId);
    throw err;
  }
}

/**
 * The conversation a turn continues. `auto`: the one the id names for this actor (ids are per
 * user, so another user's conversation of that id is none of this one's: a new one is created
 * under it), else the user's current one. `new`: none (an id already in use is a 409).
 * `existing`: the id's, which must exist (404).
 */
async function resolveConversation(
  store: Store,
  actor: Actor,
  id: string | undefined,
  mode: TurnInput['conversationMode'],
): Promise<ConversationRecord | undefined> {
  if (mode === 'new') {
    if (id !== undefined && (await lookupConversation(store, actor, id))) {
      throw new AppError('CONFLICT', `conversation ${id} already exists; continue it, or start a new one with another id (or none)`);
    }
    return undefined;
  }
  if (mode === 'existing') {
    if (id === undefined) throw new AppError('BAD_REQUEST', 'conversationId is required to continue a conversation');
    const found = await lookupConversation(store, actor, id);
    if (!found) throw notFound('Conversation');
    return found;
  }
  if (id !== undefined) return lookupConversation(store, actor, id);
  return store.conversations.latestForUser(actor.owner);
}

async function messageIdInUse(store: Store, messageId: string | undefined): Promise<AppError | undefined> {
  if (messageId === undefined || !(await store.messages.get(messageId))) return undefined;
  return new AppError('CONFLICT', `messageId ${messageId} is already in use`);
}

function managerIdMismatch(conversation: ConversationRecord, managerId: string): string {
  const own = conversation.managerId === null ? 'no managerId' : `managerId ${JSON.stringify(conversation.managerId)}`;
  return `conversation ${conversation.id} has ${own}, not ${JSON.stringify(managerId)}: continue it with its own managerId (or none), or start a new conversation`;
}

async function resolveFiles(deps: TurnSetupDeps, actor: Actor, owner: string, refs: string[]): Promise<FileRecord[]> {
  const { maxFilesPerTurn } = deps.config;
  if (refs.length > maxFilesPerTurn) throw new AppError('PAYLOAD_TOO_LARGE', `at most ${maxFilesPerTurn} files per turn`);
  const out: FileRecord[] = [];
  for (const ref of refs) {
    const file = await findFile(deps.store, actor, owner, ref);
    if (!file) throw new AppError('BAD_REQUEST', `File not found: ${ref}`);
    if (!out.some((f) => f.id === file.id)) out.push(file);
  }
  return out;
}

/** By id, else by the path string used at upload; the caller's own files first. */
async function findFile(store: Store, actor: Actor, owner: string, ref: string): Promise<FileRecord | undefined> {
  const byId = await store.files.get(ref);
  if (byId && (byId.userId === owner || !actor.isolated)) return byId;
  const own = await store.files.findByOrigin(ref, owner);
  if (own || actor.isolated) return own;
  // Without keys nothing is isolated: a file uploaded under another (or no) user is usable.
  return store.files.findByOrigin(ref);
}
