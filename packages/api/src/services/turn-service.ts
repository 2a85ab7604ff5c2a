import { randomUUID } from 'node:crypto';
import type { AgentFile, AgentUsage, AgentCitation } from '@colloquy/agents';
import type { ConversationRecord, FileRecord, MessageRecord, MessageStatus, Store, StreamLog } from '@colloquy/store';
import { isVisible, type Actor, type ApiConfig } from '../context.ts';
import { AppError, notFound } from '../errors/app-error.ts';
import type { StreamEvent, UnnumberedStreamEvent } from '../schemas/stream-event.ts';
import type { AgentRegistry } from './agent-registry.ts';
import type { BlobStore } from './blob-store.ts';
import { noTurnObserver, silentLogger, type Logger, type TurnObserver } from './observability.ts';
import { snapshotEvent, toDifyMetadata } from './stream-event-builders.ts';

export interface TurnInput {
  actor: Actor;
  query: string;
  conversationId?: string;
  /** File ids, or the path strings used at upload. */
  files?: string[];
  agentId?: string;
  managerId?: string;
}

export interface StartedTurn {
  conversationId: string;
  messageId: string;
  agentId: string;
}

export interface TurnService {
  /** Steps 1–4 of a turn: resolve, persist, then run the agent in the background. */
  start(input: TurnInput): Promise<StartedTurn>;
  /** The message's events after `lastEventId`, live while it streams. Validates access first. */
  events(actor: Actor, messageId: string, lastEventId: number, signal?: AbortSignal): Promise<AsyncIterable<StreamEvent>>;
  /** Waits for the turn to end and returns the stored assistant message. */
  wait(messageId: string): Promise<MessageRecord>;
  /** Cancels a running generation; the partial text is stored as `stopped`. */
  stop(actor: Actor, messageId: string): Promise<MessageRecord>;
  /** Marks messages a dead process left `streaming` as `interrupted`. Run once at start-up. */
  recoverInterrupted(): Promise<number>;
  activeCount(): number;
  /** Waits up to `graceMs` for running turns, then stops the rest (their text is kept). */
  drain(graceMs: number): Promise<void>;
}

export interface TurnServiceDeps {
  config: ApiConfig;
  store: Store;
  /** The live events, numbered as they are emitted. */
  streamLog: StreamLog<StreamEvent>;
  agents: AgentRegistry;
  /** File contents, for agents that upload files to their upstream. */
  blobs: BlobStore;
  /** How often a streaming answer is written to the store (at most this long between flushes). */
  flushIntervalMs?: number;
  /** Where agent failures are logged. */
  logger?: Logger;
  /** Told when each turn starts, gets its first token and ends (metrics). */
  observer?: TurnObserver;
}

interface ActiveTurn {
  controller: AbortController;
  /** The conversation's owner: who may read the live stream. */
  owner: string;
  /** The stored assistant message once the turn has ended (undefined if storing it failed). */
  done: Promise<MessageRecord | undefined>;
}

const STOPPED = 'stopped';

export function createTurnService(deps: TurnServiceDeps): TurnService {
  const { config, store, streamLog, agents } = deps;
  const flushIntervalMs = deps.flushIntervalMs ?? 1000;
  const logger = deps.logger ?? silentLogger;
  const observer = deps.observer ?? noTurnObserver;
  const active = new Map<string, ActiveTurn>();
  const flushes = createFlushScheduler(flushIntervalMs);
  /** Generations running or starting, per owner (MAX_CONCURRENT_TURNS_PER_USER). */
  const generations = new Map<string, number>();

  /** Counts a generation against its owner's limit; the returned release is idempotent. */
  function claimGeneration(owner: string): () => void {
    const limit = config.maxConcurrentTurnsPerUser ?? 0;
    const running = generations.get(owner) ?? 0;
    if (limit > 0 && running >= limit) {
      throw new AppError('TOO_MANY_REQUESTS', `at most ${limit} concurrent generations per user; wait for one to end`, {
        retryAfterSeconds: 1,
      });
    }
    generations.set(owner, running + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (generations.get(owner) ?? 1) - 1;
      if (left > 0) generations.set(owner, left);
      else generations.delete(owner);
    };
  }

  async function resolveConversation(actor: Actor, id: string | undefined): Promise<ConversationRecord | undefined> {
    if (id !== undefined) {
      const found = await store.conversations.get(id);
      // Another user's conversation is reported exactly like a missing one.
      if (found && !isVisible(actor, found.userId)) throw notFound('Conversation');
      return found;
    }
    return store.conversations.latestForUser(actor.owner);
  }

  async function resolveFiles(actor: Actor, owner: string, refs: string[]): Promise<FileRecord[]> {
    if (refs.length > config.maxFilesPerTurn) {
      throw new AppError('PAYLOAD_TOO_LARGE', `at most ${config.maxFilesPerTurn} files per turn`);
    }
    const out: FileRecord[] = [];
    for (const ref of refs) {
      const file = await findFile(actor, owner, ref);
      if (!file) throw new AppError('BAD_REQUEST', `File not found: ${ref}`);
      if (!out.some((f) => f.id === file.id)) out.push(file);
    }
    return out;
  }

  /** By id, else by the path string used at upload; the caller's own files first. */
  async function findFile(actor: Actor, owner: string, ref: string): Promise<FileRecord | undefined> {
    const byId = await store.files.get(ref);
    if (byId && (byId.userId === owner || !actor.isolated)) return byId;
    const own = await store.files.findByOrigin(ref, owner);
    if (own || actor.isolated) return own;
    // Without keys nothing is isolated: a file uploaded under another (or no) user is usable.
    return store.files.findByOrigin(ref);
  }

  async function start(input: TurnInput): Promise<StartedTurn> {
    // A turn that fails before its generation runs gives its claim back at once.
    const claim = { release: () => {} };
    try {
      return await startClaimed(input, claim);
    } catch (err) {
      claim.release();
      throw err;
    }
  }

  async function startClaimed(input: TurnInput, claim: { release: () => void }): Promise<StartedTurn> {
    const { actor } = input;
    const query = input.query;
    const conversation = await resolveConversation(actor, input.conversationId);
    const agent = agents.resolve(input.agentId ?? conversation?.agentId);
    // Continuing a conversation acts as its owner (open mode may name no user).
    const owner = conversation?.userId ?? actor.owner;
    claim.release = claimGeneration(owner);
    const files = await resolveFiles(actor, owner, input.files ?? []);

    const now = Date.now();
    const conversationId = conversation?.id ?? input.conversationId ?? randomUUID();
    const userMessage: MessageRecord = {
      id: randomUUID(),
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
    const assistantMessage: MessageRecord = {
      ...userMessage,
      id: randomUUID(),
      role: 'assistant',
      content: '',
      fileIds: [],
      status: 'streaming',
    };
    await store.beginTurn({
      conversation: conversation
        ? { touch: { id: conversation.id, updatedAt: now } }
        : {
            create: {
              id: conversationId,
              userId: owner,
              agentId: agent.info.id,
              name: nameFromQuery(query),
              managerId: input.managerId ?? null,
              upstreamId: null,
              createdAt: now,
              updatedAt: now,
            },
          },
      userMessage,
      assistantMessage,
    });
    if (conversation && conversation.agentId !== agent.info.id) {
      await store.conversations.update(conversation.id, { agentId: agent.info.id, upstreamId: null });
    }

    streamLog.open(assistantMessage.id);
    const controller = new AbortController();
    const done = runAgent({
      conversationId,
      upstreamId: conversation && conversation.agentId === agent.info.id ? conversation.upstreamId : null,
      userId: owner,
      userMessage,
      assistantId: assistantMessage.id,
      agentId: agent.info.id,
      files,
      // A new conversation has no history to load.
      newConversation: !conversation,
      signal: controller.signal,
    }).finally(() => {
      active.delete(assistantMessage.id);
      claim.release();
    });
    active.set(assistantMessage.id, { controller, owner, done });
    return { conversationId, messageId: assistantMessage.id, agentId: agent.info.id };
  }

  async function runAgent(turn: {
    conversationId: string;
    upstreamId: string | null;
    userId: string;
    userMessage: MessageRecord;
    assistantId: string;
    agentId: string;
    files: FileRecord[];
    newConversation: boolean;
    signal: AbortSignal;
  }): Promise<MessageRecord | undefined> {
    const { conversationId, assistantId } = turn;
    // Events are numbered here, once: this turn is its stream's only writer, so the log's next
    // id is ours + 1, and readers relay the stored objects as they are.
    let lastEventId = 0;
    const emit = (e: UnnumberedStreamEvent) => {
      // `event` and `id` first: NDJSON readers see what a line is at a glance.
      const { event, ...fields } = e;
      lastEventId = streamLog.append(assistantId, { event, id: String(lastEventId + 1), ...fields } as StreamEvent);
    };
    const stamp = () => ({ conversation_id: conversationId, message_id: assistantId, created_at: Math.floor(Date.now() / 1000) });
    const startedAt = performance.now();
    let answered = false;
    observer.onTurnStarted(turn.agentId);
    const firstText = () => {
      if (answered) return;
      answered = true;
      observer.onFirstToken(turn.agentId, performance.now() - startedAt);
    };

    let text = '';
    let usage: AgentUsage | null = null;
    let citations: AgentCitation[] = [];
    let failure: { code: string; message: string; status: number } | null = null;
    let flushing: Promise<unknown> = Promise.resolve();
    // Flushed by the shared timer rather than per delta: at most one write a second per answer.
    const flush = () => {
      flushing = store.messages.update(assistantId, { content: text, updatedAt: Date.now() }).catch(() => undefined);
    };

    try {
      const agent = agents.resolve(turn.agentId);
      const { history, conversationFiles } = turn.newConversation
        ? { history: [], conversationFiles: [] }
        : await loadContext(conversationId, turn.userMessage, turn.files);
      const stream = agent.run({
        conversationId,
        messageId: assistantId,
        userId: turn.userId,
        query: turn.userMessage.content,
        history,
        files: turn.files.map(toAgentFile),
        conversationFiles: conversationFiles.map(toAgentFile),
        upstreamConversationId: turn.upstreamId,
        signal: turn.signal,
        // Upstream file ids are kept per agent so a file is uploaded to each upstream once.
        onFileUploaded: (fileId, upstreamId) => store.files.setUpstreamId(fileId, agent.info.id, upstreamId),
        fileData: async (fileId) => {
          const file = turn.files.find((f) => f.id === fileId) ?? conversationFiles.find((f) => f.id === fileId);
          if (!file) throw new Error(`file ${fileId} is not part of this conversation`);
          return deps.blobs.read(file.sha256);
        },
      });
      for await (const ev of stream) {
        if (turn.signal.aborted) break;
        switch (ev.event) {
          case 'message':
            firstText();
            text += ev.answer;
            flushes.mark(assistantId, flush);
            // The hot path (one per delta): built whole, in wire order, without spreads.
            lastEventId = streamLog.append(assistantId, {
              event: 'message',
              id: String(lastEventId + 1),
              conversation_id: conversationId,
              message_id: assistantId,
              created_at: Math.floor(Date.now() / 1000),
              answer: ev.answer,
            });
            break;
          case 'message_replace':
            firstText();
            text = ev.answer;
            flushes.mark(assistantId, flush);
            emit({ ...stamp(), event: 'message_replace', answer: ev.answer });
            break;
          case 'agent_thought':
            emit({ ...stamp(), event: 'agent_thought', thought: ev.thought, ...(ev.tool ? { tool: ev.tool } : {}) });
            break;
          case 'message_file':
            emit({ ...stamp(), event: 'message_file', file_id: ev.fileId, ...(ev.url ? { url: ev.url } : {}), ...(ev.type ? { type: ev.type } : {}) });
            break;
          case 'upstream_conversation':
            await store.conversations.update(conversationId, { upstreamId: ev.upstreamConversationId });
            break;
          case 'ping':
            emit({ ...stamp(), event: 'ping' });
            break;
          case 'message_end':
            usage = ev.usage ?? null;
            citations = ev.citations ?? [];
            break;
        }
      }
    } catch (err) {
      if (!turn.signal.aborted) {
        failure = { code: 'upstream_error', message: err instanceof Error ? err.message : String(err), status: 502 };
        logger.error({ err, agentId: turn.agentId, conversationId, messageId: assistantId }, 'agent failed');
      }
    } finally {
      flushes.cancel(assistantId);
    }

    const status: MessageStatus = turn.signal.aborted ? 'stopped' : failure ? 'error' : 'complete';
    if (failure) emit({ ...stamp(), event: 'error', ...failure });
    // The final state is stored before `message_end` is sent, so a client that reads the
    // message right after the stream ends finds it complete.
    await flushing;
    const endId = lastEventId + 1;
    const saved = await store.messages
      .update(assistantId, {
        content: text,
        status,
        usage,
        citations,
        error: failure?.message ?? null,
        lastEventId: endId,
        updatedAt: Date.now(),
      })
      .catch((err: unknown) => {
        logger.error({ err, conversationId, messageId: assistantId }, 'storing the final message failed');
        return undefined;
      });
    observer.onTurnEnded(turn.agentId, status, usage, performance.now() - startedAt);
    emit({
      ...stamp(),
      event: 'message_end',
      status,
      metadata: toDifyMetadata(saved?.usage ?? usage, saved?.citations ?? citations),
    });
    streamLog.close(assistantId);
    return saved;
  }

  async function loadContext(conversationId: string, current: MessageRecord, turnFiles: FileRecord[]) {
    const all = await store.messages.listAll(conversationId);
    // Everything stored before this turn's user message (listAll is in insertion order).
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

  async function visibleMessage(actor: Actor, messageId: string): Promise<MessageRecord> {
    const message = await store.messages.get(messageId);
    if (!message) throw notFound('Message');
    const conversation = await store.conversations.get(message.conversationId);
    if (!conversation || !isVisible(actor, conversation.userId)) throw notFound('Message');
    return message;
  }

  return {
    start,
    async events(actor, messageId, lastEventId, signal) {
      // A running turn is checked against its owner in memory: attaching right after `send`
      // (the usual case) costs no store reads.
      const running = active.get(messageId);
      if (running) {
        if (!isVisible(actor, running.owner)) throw notFound('Message');
        const live = streamLog.read(messageId, lastEventId, signal);
        if (live) return numbered(live);
      }
      const message = await visibleMessage(actor, messageId);
      if (message.role !== 'assistant') throw new AppError('BAD_REQUEST', 'Only assistant messages have a stream');
      const live = streamLog.read(messageId, lastEventId, signal);
      if (live) return numbered(live);
      // The live stream expired (or the process restarted): the stored message stands for it.
      const after = Math.max(0, Math.floor(lastEventId));
      if (message.lastEventId > 0 && after >= message.lastEventId) return emptyStream();
      return singleEvent(snapshotEvent(message, Math.max(message.lastEventId, after + 1)));
    },
    async wait(messageId) {
      const saved = await active.get(messageId)?.done;
      if (saved) return saved;
      const message = await store.messages.get(messageId);
      if (!message) throw notFound('Message');
      return message;
    },
    async stop(actor, messageId) {
      await visibleMessage(actor, messageId);
      const turn = active.get(messageId);
      if (turn) {
        turn.controller.abort(STOPPED);
        await turn.done;
      }
      const message = await store.messages.get(messageId);
      if (!message) throw notFound('Message');
      return message;
    },
    recoverInterrupted: () => store.messages.interruptStreaming(Date.now()),
    activeCount: () => active.size,
    async drain(graceMs) {
      const all = () => Promise.all([...active.values()].map((t) => t.done));
      const timedOut = await Promise.race([all().then(() => false), sleep(graceMs).then(() => true)]);
      if (timedOut) {
        for (const t of active.values()) t.controller.abort(STOPPED);
        await all();
      }
    },
  };
}

async function* numbered(entries: AsyncIterable<{ id: number; data: StreamEvent }>): AsyncGenerator<StreamEvent> {
  for await (const { data } of entries) yield data;
}

async function* singleEvent(event: StreamEvent): AsyncGenerator<StreamEvent> {
  yield event;
}

async function* emptyStream(): AsyncGenerator<StreamEvent> {
  return;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

function nameFromQuery(query: string): string {
  const oneLine = query.replace(/\s+/g, ' ').trim();
  const chars = [...oneLine];
  return chars.length > 50 ? `${chars.slice(0, 50).join('')}…` : oneLine;
}

function toAgentFile(f: FileRecord): AgentFile {
  return { id: f.id, name: f.name, mimeType: f.mimeType, text: f.text, upstreamIds: f.upstreamIds };
}

/**
 * One timer for every streaming answer instead of one per turn: each tick runs the flush of
 * every answer that changed since the previous tick, so no answer is more than `intervalMs`
 * behind in the store. The timer only runs while some answer is waiting to be flushed.
 */
function createFlushScheduler(intervalMs: number) {
  const pending = new Map<string, () => void>();
  let timer: ReturnType<typeof setInterval> | undefined;
  const tick = () => {
    const due = [...pending.values()];
    pending.clear();
    for (const flush of due) flush();
    if (pending.size === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  };
  return {
    mark(key: string, flush: () => void) {
      pending.set(key, flush);
      timer ??= setInterval(tick, intervalMs);
    },
    cancel(key: string) {
      pending.delete(key);
    },
  };
}
