import { randomUUID } from 'node:crypto';
import type { AgentCitation, AgentEvent, AgentFile, AgentTurn, AgentUsage } from '@colloquy/agents';
import type { ConversationRecord, FileRecord, MessageRecord, MessageStatus, Store, StreamEntry, StreamLog } from '@colloquy/store';
import { isVisible, type Actor, type ApiConfig } from '../context.ts';
import { AppError, notFound } from '../errors/app-error.ts';
import type { StreamEvent, UnnumberedStreamEvent } from '../schemas/stream-event.ts';
import type { AgentRegistry } from './agent-registry.ts';
import type { BlobStore } from './blob-store.ts';
import { lookupConversation } from './conversation-lookup.ts';
import { MappedStream } from './mapped-stream.ts';
import { createFlushScheduler } from './flush-scheduler.ts';
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
  /** Continuing a conversation with a different `managerId` is a 409 (tRPC) rather than ignored (REST). */
  managerIdMustMatch?: boolean;
  /** The assistant message's id, chosen by the client (a UUID); one already in use is a 409. */
  messageId?: string;
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

const STOPPED = 'stopped';

/** How a turn whose agent failed ends (sent as its `error` event). */
interface TurnFailure {
  code: string;
  message: string;
  status: number;
}

/** The generation a starting turn holds, until its run takes it over. */
interface Claim {
  owner: string | undefined;
}

/** What a turn's agent run needs from `start` (and no longer keeps once the agent has it). */
interface TurnSetup {
  userMessage: MessageRecord;
  files: FileRecord[];
  /** The upstream's own conversation id, when continuing with the same agent. */
  upstreamId: string | null;
  /** A new conversation has no history to load. */
  newConversation: boolean;
}

export function createTurnService(deps: TurnServiceDeps): TurnService {
  const { config, store, streamLog, agents } = deps;
  const flushIntervalMs = deps.flushIntervalMs ?? 1000;
  const logger = deps.logger ?? silentLogger;
  const observer = deps.observer ?? noTurnObserver;
  const active = new Map<string, RunningTurn>();
  const flushes = createFlushScheduler(flushIntervalMs);
  /** Generations running or starting, per owner (MAX_CONCURRENT_TURNS_PER_USER). */
  const generations = new Map<string, number>();

  /** Counts a generation against its owner's limit (429 at the limit); `releaseGeneration` gives it back. */
  function claimGeneration(owner: string): void {
    const limit = config.maxConcurrentTurnsPerUser ?? 0;
    const running = generations.get(owner) ?? 0;
    if (limit > 0 && running >= limit) {
      throw new AppError('TOO_MANY_REQUESTS', `at most ${limit} concurrent generations per user; wait for one to end`, {
        retryAfterSeconds: 1,
      });
    }
    generations.set(owner, running + 1);
  }

  function releaseGeneration(owner: string): void {
    const left = (generations.get(owner) ?? 1) - 1;
    if (left > 0) generations.set(owner, left);
    else generations.delete(owner);
  }

  /**
   * One turn from its agent run to its stored answer: what `active` holds, the state its events
   * build and the steps as methods. An open stream keeps its turn alive for as long as it runs,
   * so a turn is one object rather than a set of closures (under tsx, every named closure also
   * gets a dictionary of its own for its `name`).
   */
  class RunningTurn {
    readonly controller = new AbortController();
    /** The stored assistant message once the turn has ended (undefined if storing it failed). */
    readonly done: Promise<MessageRecord | undefined>;
    // Events are numbered here, once: this turn is its stream's only writer, so the log's next
    // id is ours + 1, and readers relay the stored objects as they are.
    #lastEventId = 0;
    #text = '';
    #answered = false;
    readonly #startedAt = performance.now();
    /** The last answer-so-far write, if any (awaited before the final write). */
    #flushing: Promise<unknown> | undefined;
    /** From the agent's `message_end`. */
    #usage: AgentUsage | null = null;
    #citations: AgentCitation[] | undefined;

    constructor(
      readonly conversationId: string,
      readonly assistantId: string,
      readonly agentId: string,
      /** The conversation's owner: who may read the live stream, whose generation this is. */
      readonly owner: string,
      setup: TurnSetup,
    ) {
      this.#flush = () => {
        // Settles to nothing: the stored record is not kept while the answer streams on.
        this.#flushing = store.messages.update(this.assistantId, { content: this.#text, updatedAt: Date.now() }).then(ignore, ignore);
      };
      observer.onTurnStarted(agentId);
      // `setup` is not passed on: nothing waiting for the answer keeps it (the user message).
      this.done = this.#run(this.#startAgent(setup));
    }

    /**
     * Writes the answer so far; the shared flush timer calls it, at most once a second. Made in
     * the constructor (a member assignment): one closure per turn, which tsx does not name.
     */
    readonly #flush: () => void;

    /**
     * Relays the agent's events to the stream log and stores the final message; then the turn
     * leaves `active` and gives its generation back. This frame waits for the whole answer, so
     * it is kept small (its registers are kept while it waits): the work is in the methods.
     */
    async #run(started: Promise<AsyncIterable<AgentEvent>>): Promise<MessageRecord | undefined> {
      const signal = this.controller.signal;
      let failure: TurnFailure | null = null;
      try {
        try {
          for await (const ev of await started) {
            if (signal.aborted) break;
            // Only `upstream_conversation` has something to wait for (the store).
            const storing = this.#relay(ev);
            if (storing) await storing;
          }
        } catch (err) {
          if (!signal.aborted) {
            failure = { code: 'upstream_error', message: err instanceof Error ? err.message : String(err), status: 502 };
            logger.error({ err, agentId: this.agentId, conversationId: this.conversationId, messageId: this.assistantId }, 'agent failed');
          }
        } finally {
          flushes.cancel(this.assistantId);
        }
        return await this.#finish(failure);
      } finally {
        active.delete(this.assistantId);
        releaseGeneration(this.owner);
      }
    }

    /** One agent event into the stream log (and the answer); a promise when it has to wait. */
    #relay(ev: AgentEvent): Promise<unknown> | undefined {
      const { conversationId, assistantId } = this;
      switch (ev.event) {
        case 'message':
          this.#firstText();
          this.#text += ev.answer;
          // Flushed by the shared timer rather than per delta: at most one write a second per answer.
          flushes.mark(assistantId, this.#flush);
          // The hot path (one per delta): built whole, in wire order, without spreads.
          this.#lastEventId = streamLog.append(assistantId, {
            event: 'message',
            id: String(this.#lastEventId + 1),
            conversation_id: conversationId,
            message_id: assistantId,
            created_at: Math.floor(Date.now() / 1000),
            answer: ev.answer,
          });
          return undefined;
        case 'message_replace':
          this.#firstText();
          this.#text = ev.answer;
          flushes.mark(assistantId, this.#flush);
          this.#emit({ ...this.#stamp(), event: 'message_replace', answer: ev.answer });
          return undefined;
        case 'agent_thought':
          this.#emit({ ...this.#stamp(), event: 'agent_thought', thought: ev.thought, ...(ev.tool ? { tool: ev.tool } : {}) });
          return undefined;
        case 'message_file':
          this.#emit({
            ...this.#stamp(),
            event: 'message_file',
            file_id: ev.fileId,
            ...(ev.url ? { url: ev.url } : {}),
            ...(ev.type ? { type: ev.type } : {}),
          });
          return undefined;
        case 'upstream_conversation':
          return store.conversations.update(this.owner, conversationId, { upstreamId: ev.upstreamConversationId });
        case 'ping':
          this.#emit({ ...this.#stamp(), event: 'ping' });
          return undefined;
        case 'message_end':
          this.#usage = ev.usage ?? null;
          this.#citations = ev.citations ?? [];
          return undefined;
      }
    }

    /** Stores the final message, then sends `message_end` (after `error`, if the agent failed). */
    async #finish(failure: TurnFailure | null): Promise<MessageRecord | undefined> {
      const { conversationId, assistantId, agentId } = this;
      const usage = this.#usage;
      const citations = this.#citations ?? [];
      const status: MessageStatus = this.controller.signal.aborted ? 'stopped' : failure ? 'error' : 'complete';
      if (failure) this.#emit({ ...this.#stamp(), event: 'error', ...failure });
      // The final state is stored before `message_end` is sent, so a client that reads the
      // message right after the stream ends finds it complete.
      await this.#flushing;
      const endId = this.#lastEventId + 1;
      let saved: MessageRecord | undefined;
      try {
        saved = await store.messages.update(assistantId, {
          content: this.#text,
          status,
          usage,
          citations,
          error: failure?.message ?? null,
          lastEventId: endId,
          updatedAt: Date.now(),
        });
      } catch (err) {
        logger.error({ err, conversationId, messageId: assistantId }, 'storing the final message failed');
      }
      observer.onTurnEnded(agentId, status, usage, performance.now() - this.#startedAt);
      this.#emit({
        ...this.#stamp(),
        event: 'message_end',
        status,
        metadata: toDifyMetadata(saved?.usage ?? usage, saved?.citations ?? citations),
      });
      streamLog.close(assistantId);
      return saved;
    }

    /** Loads the history (for a continued conversation) and starts the agent's run. */
    async #startAgent(setup: TurnSetup): Promise<AsyncIterable<AgentEvent>> {
      const agent = agents.resolve(this.agentId);
      const { userMessage, files } = setup;
      const { history, conversationFiles } = setup.newConversation
        ? { history: [], conversationFiles: [] }
        : await loadContext(this.owner, this.conversationId, userMessage, files);
      const turn: AgentTurn = {
        conversationId: this.conversationId,
        messageId: this.assistantId,
        userId: this.owner,
        query: userMessage.content,
        history,
        files: files.map(toAgentFile),
        conversationFiles: conversationFiles.map(toAgentFile),
        upstreamConversationId: setup.upstreamId,
        signal: this.controller.signal,
      };
      // Only a turn with files has anything to upload or read: no callbacks to keep otherwise.
      if (files.length > 0 || conversationFiles.length > 0) Object.assign(turn, fileAccess(agent.info.id, files, conversationFiles));
      return agent.run(turn);
    }

    #emit(e: UnnumberedStreamEvent): void {
      // `event` and `id` first: NDJSON readers see what a line is at a glance.
      const { event, ...fields } = e;
      this.#lastEventId = streamLog.append(this.assistantId, { event, id: String(this.#lastEventId + 1), ...fields } as StreamEvent);
    }

    #stamp() {
      return { conversation_id: this.conversationId, message_id: this.assistantId, created_at: Math.floor(Date.now() / 1000) };
    }

    #firstText(): void {
      if (this.#answered) return;
      this.#answered = true;
      observer.onFirstToken(this.agentId, performance.now() - this.#startedAt);
    }
  }

  /** The turn callbacks agents that upload files use (Dify). */
  function fileAccess(agentId: string, files: FileRecord[], conversationFiles: FileRecord[]): Pick<AgentTurn, 'onFileUploaded' | 'fileData'> {
    return {
      // Upstream file ids are kept per agent so a file is uploaded to each upstream once.
      onFileUploaded(fileId, upstreamId) {
        return store.files.setUpstreamId(fileId, agentId, upstreamId);
      },
      async fileData(fileId) {
        const file = files.find((f) => f.id === fileId) ?? conversationFiles.find((f) => f.id === fileId);
        if (!file) throw new Error(`file ${fileId} is not part of this conversation`);
        return deps.blobs.read(file.sha256);
      },
    };
  }

  /**
   * The conversation a turn continues: the one the id names for this actor (ids are per user, so
   * another user's conversation of that id is none of this one's: a new one is created under
   * it), else the user's current one.
   */
  async function resolveConversation(actor: Actor, id: string | undefined): Promise<ConversationRecord | undefined> {
    if (id !== undefined) return lookupConversation(store, actor, id);
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
    const claim: Claim = { owner: undefined };
    try {
      return await startClaimed(input, claim);
    } catch (err) {
      if (claim.owner !== undefined) releaseGeneration(claim.owner);
      throw err;
    }
  }

  async function startClaimed(input: TurnInput, claim: Claim): Promise<StartedTurn> {
    const { actor } = input;
    const query = input.query;
    const conversation = await resolveConversation(actor, input.conversationId);
    if (conversation && input.managerIdMustMatch && input.managerId !== undefined && input.managerId !== conversation.managerId) {
      throw new AppError('CONFLICT', managerIdMismatch(conversation, input.managerId));
    }
    const agent = agents.resolve(input.agentId ?? conversation?.agentId);
    // Continuing a conversation acts as its owner (open mode may name no user).
    const owner = conversation?.userId ?? actor.owner;
    claimGeneration(owner);
    claim.owner = owner;
    const files = await resolveFiles(actor, owner, input.files ?? []);

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
    const assistantMessage: MessageRecord = {
      ...userMessage,
      id: input.messageId ?? randomUUID(),
      role: 'assistant',
      content: '',
      fileIds: [],
      status: 'streaming',
    };
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
              createdAt: now,
              updatedAt: now,
            },
          },
      userMessage,
      assistantMessage,
    }).catch(async (err: unknown) => {
      // The transaction wrote nothing; a client-chosen id already in use is the client's error.
      throw (await messageIdInUse(input.messageId)) ?? err;
    });
    if (conversation && conversation.agentId !== agent.info.id) {
      await store.conversations.update(owner, conversation.id, { agentId: agent.info.id, upstreamId: null });
    }

    streamLog.open(assistantMessage.id);
    // Runs in the background and gives the generation back when it ends. It always awaits
    // before it ends, so it is in `active` before it can remove itself.
    const turn = new RunningTurn(conversationId, assistantMessage.id, agent.info.id, owner, {
      userMessage,
      files,
      upstreamId: conversation && conversation.agentId === agent.info.id ? conversation.upstreamId : null,
      // A new conversation has no history to load.
      newConversation: !conversation,
    });
    claim.owner = undefined;
    active.set(turn.assistantId, turn);
    return { conversationId, messageId: assistantMessage.id, agentId: agent.info.id };
  }

  async function messageIdInUse(messageId: string | undefined): Promise<AppError | undefined> {
    if (messageId === undefined || !(await store.messages.get(messageId))) return undefined;
    return new AppError('CONFLICT', `messageId ${messageId} is already in use`);
  }

  async function loadContext(owner: string, conversationId: string, current: MessageRecord, turnFiles: FileRecord[]) {
    const all = await store.messages.listAll(owner, conversationId);
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
    // A message carries its conversation's owner: another user's is reported like a missing one.
    if (!message || !isVisible(actor, message.userId)) throw notFound('Message');
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

/**
 * The live events as the log holds them (already numbered): its entries' data, mapped without a
 * generator of our own, so a reader waiting for the next event costs one wait (see MappedStream).
 */
function numbered(entries: AsyncIterable<StreamEntry<StreamEvent>>): AsyncIterable<StreamEvent> {
  return MappedStream.of(entries, dataOf);
}

function dataOf(entry: StreamEntry<StreamEvent>): StreamEvent {
  return entry.data;
}

async function* singleEvent(event: StreamEvent): AsyncGenerator<StreamEvent> {
  yield event;
}

async function* emptyStream(): AsyncGenerator<StreamEvent> {
  return;
}

function ignore(): void {}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

function managerIdMismatch(conversation: ConversationRecord, managerId: string): string {
  const own = conversation.managerId === null ? 'no managerId' : `managerId ${JSON.stringify(conversation.managerId)}`;
  return `conversation ${conversation.id} has ${own}, not ${JSON.stringify(managerId)}: continue it with its own managerId (or none), or start a new conversation`;
}

function nameFromQuery(query: string): string {
  const oneLine = query.replace(/\s+/g, ' ').trim();
  const chars = [...oneLine];
  return chars.length > 50 ? `${chars.slice(0, 50).join('')}…` : oneLine;
}

function toAgentFile(f: FileRecord): AgentFile {
  return { id: f.id, name: f.name, mimeType: f.mimeType, text: f.text, upstreamIds: f.upstreamIds };
}
