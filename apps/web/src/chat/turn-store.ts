import type { ColloquyClient } from '@colloquy/sdk';
import { PendingTurns, resumeTurn, startTurn, type LiveTurn, type StartTurnInput, type TurnHandle } from './turn-resume.ts';

/**
 * The answers this tab is streaming, by conversation, outliving the page that started them
 * (navigating to another conversation does not stop one). React reads it through
 * useSyncExternalStore.
 */
export class TurnStore {
  #turns = new Map<string, LiveTurn>();
  #handles = new Map<string, TurnHandle>();
  #listeners = new Set<() => void>();
  #snapshot: ReadonlyMap<string, LiveTurn> = new Map();
  readonly pending: PendingTurns;

  constructor(
    storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>,
    private readonly onEnded: (turn: LiveTurn) => void,
  ) {
    this.pending = new PendingTurns(storage);
  }

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  snapshot = (): ReadonlyMap<string, LiveTurn> => this.#snapshot;

  #set(turn: LiveTurn): void {
    this.#turns.set(turn.conversationId, turn);
    this.#snapshot = new Map(this.#turns);
    for (const l of this.#listeners) l();
  }

  #track(handle: TurnHandle, conversationId: string): void {
    this.#handles.set(conversationId, handle);
    void handle.done.then((turn) => {
      if (this.#handles.get(conversationId) === handle) this.#handles.delete(conversationId);
      this.onEnded(turn);
    });
  }

  start(client: ColloquyClient, input: StartTurnInput): void {
    this.#track(startTurn(client, input, this.pending, (t) => this.#set(t)), input.conversationId);
  }

  /** Re-attaches to every answer this tab was following before a reload. */
  resumePending(client: ColloquyClient): void {
    for (const saved of this.pending.all()) {
      if (this.#handles.has(saved.conversationId)) continue;
      this.#track(resumeTurn(client, saved, this.pending, (t) => this.#set(t)), saved.conversationId);
    }
  }

  running(conversationId: string): boolean {
    return this.#handles.has(conversationId);
  }

  async stop(conversationId: string): Promise<void> {
    await this.#handles.get(conversationId)?.stream.stop();
  }

  /** Forgets a finished turn once the stored messages show it. */
  forget(conversationId: string): void {
    if (this.#handles.has(conversationId) || !this.#turns.delete(conversationId)) return;
    this.#snapshot = new Map(this.#turns);
    for (const l of this.#listeners) l();
  }

  /** Stops listening to every stream (the server goes on generating; they stay resumable). */
  detachAll(): void {
    for (const h of this.#handles.values()) h.stream.abort();
    this.#handles.clear();
  }
}
