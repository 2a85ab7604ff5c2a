import type { StreamLog } from '@colloquy/store';
import type { StreamEvent, UnnumberedStreamEvent } from '../../schemas/stream-event.ts';

/**
 * Where a turn's events get their ids: the one place events are numbered. A turn is its
 * stream's only writer, so its next id is its last + 1; the log keeps that id as the entry's, on
 * every instance, and readers relay the stored objects as they are.
 */
export class TurnEventWriter {
  #lastId = 0;

  constructor(
    private readonly log: StreamLog<StreamEvent>,
    readonly conversationId: string,
    readonly messageId: string,
  ) {}

  /** The id of the last event written (0 before the first). */
  get lastId(): number {
    return this.#lastId;
  }

  /** An answer delta: the hot path (one per delta), built whole, in wire order, without spreads. */
  message(answer: string): void {
    const id = this.#lastId + 1;
    this.log.append(
      this.messageId,
      id,
      {
        event: 'message',
        id: String(id),
        conversation_id: this.conversationId,
        message_id: this.messageId,
        created_at: Math.floor(Date.now() / 1000),
        answer,
      },
    );
    this.#lastId = id;
  }

  /** Any other event; `event` and `id` first, so NDJSON readers see what a line is at a glance. */
  emit(e: UnnumberedStreamEvent): void {
    const id = this.#lastId + 1;
    const { event, ...fields } = e;
    this.log.append(this.messageId, id, { event, id: String(id), ...fields } as StreamEvent);
    this.#lastId = id;
  }

  /** The fields every event of this turn carries. */
  stamp(): { conversation_id: string; message_id: string; created_at: number } {
    return { conversation_id: this.conversationId, message_id: this.messageId, created_at: Math.floor(Date.now() / 1000) };
  }
}
