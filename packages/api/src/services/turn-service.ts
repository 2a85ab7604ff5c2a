import { randomUUID } from 'node:crypto';
import {
  StreamLogUnavailableError,
  createLocalStopSignals,
  createMemorySlotLimiter,
  type MessageRecord,
  type SlotLimiter,
  type StopSignals,
  type Store,
  type StreamLog,
} from '@colloquy/store';
import type { Actor } from '../access.ts';
import type { ApiConfig } from './api-config.ts';
import type { StreamEvent } from '../schemas/stream-event.ts';
import type { AgentRegistry } from './agent-registry.ts';
import type { BlobStore } from './blob-store.ts';
import { createFlushScheduler } from './flush-scheduler.ts';
import { noTurnObserver, silentLogger, type Logger, type TurnObserver } from './observability.ts';
import { createActiveTurns } from './turns/active-turns.ts';
import { buildAgentTurn } from './turns/agent-context.ts';
import { HistoryWindows, type HistoryWindowLimits } from './turns/history-window.ts';
import { createGenerationLimiter } from './turns/generation-limiter.ts';
import { createInstanceLease } from './turns/instance-lease.ts';
import { streamEvents, streamEventsAwaitingStart, visibleMessage } from './turns/reattach.ts';
import { TurnStartWaiters } from './turns/start-waiters.ts';
import { RunningTurn, type RunningTurnDeps } from './turns/running-turn.ts';
import { prepareTurn, type TurnInput } from './turns/turn-setup.ts';

export type { TurnInput } from './turns/turn-setup.ts';

export interface StartedTurn {
  conversationId: string;
  messageId: string;
  agentId: string;
}

export interface TurnService {
  /** Steps 1–4 of a turn: resolve, persist, then run the agent in the background. */
  start(input: TurnInput): Promise<StartedTurn>;
  /** The message's events after `lastEventId`, live while it streams. Validates access first. */
  /**
   * With `awaitStart`, a message that has not started yet is waited for briefly (a client that
   * chose the id opens the stream alongside `start`); see reattach.ts.
   */
  events(actor: Actor, messageId: string, lastEventId: number, signal?: AbortSignal, awaitStart?: boolean): Promise<AsyncIterable<StreamEvent>>;
  /** Waits for the turn to end and returns the stored assistant message. */
  wait(messageId: string): Promise<MessageRecord>;
  /** Cancels a running generation, on whichever instance runs it; the partial text is stored as `stopped`. */
  stop(actor: Actor, messageId: string): Promise<MessageRecord>;
  /**
   * Takes this instance's lease and marks the messages of instances that are gone `interrupted`
   * (at start-up; the lease then re-checks periodically). Returns how many it marked.
   */
  recoverInterrupted(): Promise<number>;
  activeCount(): number;
  /** Waits up to `graceMs` for running turns, then stops the rest (their text is kept). */
  drain(graceMs: number): Promise<void>;
  /** After `drain`: gives the instance lease up and stops listening for stops. */
  close(): Promise<void>;
}

export interface TurnServiceDeps {
  config: ApiConfig;
  store: Store;
  /** The live events, numbered by each turn as it emits them. */
  streamLog: StreamLog<StreamEvent>;
  agents: AgentRegistry;
  /** File contents, for agents that upload files to their upstream. */
  blobs: BlobStore;
  /** Generation slots (MAX_CONCURRENT_TURNS_PER_USER); in-process by default. */
  slots?: SlotLimiter;
  /** How stops reach the instance running a turn; this instance only by default. */
  stops?: StopSignals;
  /** This instance's id (the owner recorded on its turns); a new one by default. */
  instanceId?: string;
  /** How long this instance's lease lasts without renewal (default 15 s). */
  instanceLeaseMs?: number;
  /** How often a streaming answer is written to the store (at most this long between flushes). */
  flushIntervalMs?: number;
  /** Where agent failures are logged. */
  logger?: Logger;
  /** Told when each turn starts, gets its first token and ends (metrics). */
  observer?: TurnObserver;
  /** How many conversations' history windows are kept between turns (defaults in history-window.ts). */
  historyWindows?: HistoryWindowLimits;
}

export const DEFAULT_INSTANCE_LEASE_MS = 15_000;

/**
 * The turn service: a facade over the turn's parts (packages/api/src/services/turns) —
 * set-up (`prepareTurn`), the generation limiter, the agent's context, the running turn, the
 * active turns' lifecycle, re-attach, and the instance lease (ownership and recovery).
 */
export function createTurnService(deps: TurnServiceDeps): TurnService {
  const { config, store, streamLog, agents } = deps;
  const logger = deps.logger ?? silentLogger;
  const instanceId = deps.instanceId ?? randomUUID();
  const generations = createGenerationLimiter(deps.slots ?? createMemorySlotLimiter(), config.maxConcurrentTurnsPerUser ?? 0);
  const active = createActiveTurns({ store, stops: deps.stops ?? createLocalStopSignals(instanceId), instanceId, logger });
  const startWaiters = new TurnStartWaiters();
  const contextDeps = { store, blobs: deps.blobs, historyWindows: new HistoryWindows(store, deps.historyWindows) };
  const lease = createInstanceLease({ store, streamLog, instanceId, leaseMs: deps.instanceLeaseMs ?? DEFAULT_INSTANCE_LEASE_MS, logger });
  // The lease is taken before this instance runs its first turn: a turn whose owner has no lease
  // row would be taken for an orphan by another instance.
  let leased: Promise<number> | undefined;
  const takeLease = () =>
    (leased ??= lease.start().catch((err: unknown) => {
      leased = undefined; // tried again by the next turn
      throw err;
    }));
  const runDeps: RunningTurnDeps = {
    store,
    streamLog,
    flushes: createFlushScheduler(deps.flushIntervalMs ?? 1000),
    logger,
    observer: deps.observer ?? noTurnObserver,
    onEnded(turn) {
      active.remove(turn);
      generations.release(turn.owner, turn.slotId);
    },
  };

  return {
    async start(input) {
      await takeLease();
      const prepared = await prepareTurn({ config, store, agents, generations, instanceId }, input);
      const { conversationId, messageId, agent, owner, slotId, setup } = prepared;
      try {
        await streamLog.open(messageId);
      } catch (err) {
        if (!(err instanceof StreamLogUnavailableError)) {
          // Never expected (the message id was just stored, so no live turn has it): give the
          // slot back and end the stored answer rather than run a turn nobody could follow.
          generations.release(owner, slotId);
          await store.messages.update(messageId, { status: 'error', error: 'the stream could not be opened', updatedAt: Date.now() }).catch(() => undefined);
          throw err;
        }
        // Redis unreachable: the answer is still generated and stored, and followed live here.
        logger.warn({ err, messageId }, 'the stream is not shared (the shared stream log is unreachable)');
      }
      // Runs in the background, gives the generation back and leaves `active` when it ends.
      // It always awaits before it ends, so it is in `active` before it can remove itself.
      const turn = new RunningTurn(runDeps, conversationId, messageId, agent.info.id, owner, slotId, (signal) =>
        buildAgentTurn(contextDeps, { conversationId, messageId, userId: owner, agentId: agent.info.id }, setup, signal, agent.historyBudgetChars).then(
          (agentTurn) => agent.run(agentTurn),
        ),
      );
      active.add(turn);
      startWaiters.started(owner, messageId);
      return { conversationId, messageId, agentId: agent.info.id };
    },
    events: (actor, messageId, lastEventId, signal, awaitStart) =>
      (awaitStart ? streamEventsAwaitingStart : streamEvents)({ store, streamLog, active, startWaiters }, actor, messageId, lastEventId, signal),
    wait: (messageId) => active.wait(messageId),
    async stop(actor, messageId) {
      await visibleMessage(store, actor, messageId);
      return active.stop(messageId);
    },
    recoverInterrupted: () => takeLease(),
    activeCount: () => active.count(),
    drain: (graceMs) => active.drain(graceMs),
    async close() {
      active.close();
      await lease.stop();
    },
  };
}
