import type { AgentCitation, AgentEvent, AgentUsage } from '@colloquy/agents';
import type { MessageRecord, MessageStatus, Store, StreamLog } from '@colloquy/store';
import type { StreamEvent } from '../../schemas/stream-event.ts';
import type { FlushScheduler } from '../flush-scheduler.ts';
import type { Logger, TurnObserver } from '../observability.ts';
import { toDifyMetadata } from '../stream-event-builders.ts';
import { TurnEventWriter } from './turn-events.ts';

/** What a running turn uses; shared by every turn of a service. */
export interface RunningTurnDeps {
  store: Store;
  streamLog: StreamLog<StreamEvent>;
  flushes: FlushScheduler;
  logger: Logger;
  observer: TurnObserver;
  /** Called once when the turn has ended (its final state stored, its stream closed). */
  onEnded(turn: RunningTurn): void;
}

/** The reason a turn's controller is aborted with by an explicit stop (or shutdown). */
export const STOPPED = 'stopped';

/** How a turn whose agent failed ends (sent as its `error` event). */
interface TurnFailure {
  code: string;
  message: string;
  status: number;
}

/**
 * One turn from its agent run to its stored answer: maps the agent's events to stream events,
 * keeps the answer so far and flushes it to the store at least once per flush interval, stores
 * the final message and sends `message_end`, and reports to the observer (metrics).
 *
 * An open stream keeps its turn alive for as long as it runs, so a turn is one object rather
 * than a set of closures (under tsx, every named closure also gets a dictionary for its `name`).
 */
export class RunningTurn {
  readonly controller = new AbortController();
  /** The stored assistant message once the turn has ended (undefined if storing it failed). */
  readonly done: Promise<MessageRecord | undefined>;
  readonly #deps: RunningTurnDeps;
  readonly #events: TurnEventWriter;
  #text = '';
  #answered = false;
  readonly #startedAt = performance.now();
  /** The last answer-so-far write, if any (awaited before the final write). */
  #flushing: Promise<unknown> | undefined;
  /** From the agent's `message_end`. */
  #usage: AgentUsage | null = null;
  #citations: AgentCitation[] | undefined;
  /**
   * Writes the answer so far; the shared flush timer calls it. Made in the constructor (a member
   * assignment): one closure per turn, which tsx does not name.
   */
  readonly #flush: () => void;

  constructor(
    deps: RunningTurnDeps,
    readonly conversationId: string,
    readonly assistantId: string,
    readonly agentId: string,
    /** The conversation's owner: who may read the live stream, whose generation this is. */
    readonly owner: string,
    /** The generation slot the turn holds until it ends. */
    readonly slotId: string,
    /** The agent's run, started by the caller with this turn's `controller.signal`. */
    started: (signal: AbortSignal) => Promise<AsyncIterable<AgentEvent>>,
  ) {
    this.#deps = deps;
    this.#events = new TurnEventWriter(deps.streamLog, conversationId, assistantId);
    this.#flush = () => {
      // Settles to nothing: the stored record is not kept while the answer streams on.
      this.#flushing = deps.store.messages.update(this.assistantId, { content: this.#text, updatedAt: Date.now() }).then(ignore, ignore);
    };
    deps.observer.onTurnStarted(agentId);
    this.done = this.#run(started(this.controller.signal));
  }

  /**
   * Relays the agent's events and stores the final message; then tells `onEnded`. This frame
   * waits for the whole answer, so it is kept small (its registers are kept while it waits).
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
          this.#deps.logger.error({ err, agentId: this.agentId, conversationId: this.conversationId, messageId: this.assistantId }, 'agent failed');
        }
      } finally {
        this.#deps.flushes.cancel(this.assistantId);
      }
      return await this.#finish(failure);
    } catch (err) {
      // Nothing waits on `done` but stop, wait and drain: it must settle, never reject (an
      // unhandled rejection would end the process).
      this.#deps.logger.error({ err, conversationId: this.conversationId, messageId: this.assistantId }, 'the turn failed');
      return undefined;
    } finally {
      this.#deps.onEnded(this);
    }
  }

  /** One agent event into the stream (and the answer); a promise when it has to wait. */
  #relay(ev: AgentEvent): Promise<unknown> | undefined {
    const events = this.#events;
    switch (ev.event) {
      case 'message':
        this.#firstText();
        this.#text += ev.answer;
        // Flushed by the shared timer rather than per delta: at most one write per interval per answer.
        this.#deps.flushes.mark(this.assistantId, this.#flush);
        events.message(ev.answer);
        return undefined;
      case 'message_replace':
        this.#firstText();
        this.#text = ev.answer;
        this.#deps.flushes.mark(this.assistantId, this.#flush);
        events.emit({ ...events.stamp(), event: 'message_replace', answer: ev.answer });
        return undefined;
      case 'agent_thought':
        events.emit({ ...events.stamp(), event: 'agent_thought', thought: ev.thought, ...(ev.tool ? { tool: ev.tool } : {}) });
        return undefined;
      case 'message_file':
        events.emit({
          ...events.stamp(),
          event: 'message_file',
          file_id: ev.fileId,
          ...(ev.url ? { url: ev.url } : {}),
          ...(ev.type ? { type: ev.type } : {}),
        });
        return undefined;
      case 'upstream_conversation':
        return this.#deps.store.conversations.update(this.owner, this.conversationId, { upstreamId: ev.upstreamConversationId });
      case 'ping':
        events.emit({ ...events.stamp(), event: 'ping' });
        return undefined;
      case 'message_end':
        this.#usage = ev.usage ?? null;
        this.#citations = ev.citations ?? [];
        return undefined;
    }
  }

  /** Stores the final message, then sends `message_end` (after `error`, if the agent failed). */
  async #finish(failure: TurnFailure | null): Promise<MessageRecord | undefined> {
    const { store, logger, observer, streamLog } = this.#deps;
    const events = this.#events;
    const usage = this.#usage;
    const citations = this.#citations ?? [];
    const status: MessageStatus = this.controller.signal.aborted ? 'stopped' : failure ? 'error' : 'complete';
    if (failure) events.emit({ ...events.stamp(), event: 'error', ...failure });
    // The final state is stored before `message_end` is sent, so a client that reads the
    // message right after the stream ends finds it complete.
    await this.#flushing;
    let saved: MessageRecord | undefined;
    try {
      saved = await store.messages.update(this.assistantId, {
        content: this.#text,
        status,
        usage,
        citations,
        error: failure?.message ?? null,
        lastEventId: events.lastId + 1,
        updatedAt: Date.now(),
      });
    } catch (err) {
      logger.error({ err, conversationId: this.conversationId, messageId: this.assistantId }, 'storing the final message failed');
    }
    observer.onTurnEnded(this.agentId, status, usage, performance.now() - this.#startedAt);
    events.emit({
      ...events.stamp(),
      event: 'message_end',
      status,
      metadata: toDifyMetadata(saved?.usage ?? usage, saved?.citations ?? citations),
    });
    streamLog.close(this.assistantId);
    return saved;
  }

  #firstText(): void {
    if (this.#answered) return;
    this.#answered = true;
    this.#deps.observer.onFirstToken(this.agentId, performance.now() - this.#startedAt);
  }
}

function ignore(): void {}
