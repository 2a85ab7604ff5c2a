import type { AgentHistoryMessage } from '@colloquy/agents';
import type { HistoryDelta, HistoryEntry, MessageRecord, Store } from '@colloquy/store';

/**
 * A conversation's history window kept between turns (issue 17): the newest messages the last
 * turn read, so the next turn of the same conversation reads only what changed since.
 *
 * Validation is a query against the store on every turn, not an invalidation message: other
 * instances (several processes on one SQLite file, or on PostgreSQL) write to the same
 * conversations, and a pub/sub message can be lost or arrive after the turn has read its
 * history; a read cannot. The one indexed query (`MessageStore.historySince`) returns every
 * message from the window's refresh point up to the turn's own user message, and how many
 * messages the store has in the rest of the window. It relies on what the store guarantees:
 * `seq` is never reused, messages are appended, a message changes only until it settles
 * (`streaming`, or `interrupted` while its turn may still finish it; MessageStore.update), and a
 * deleted conversation loses all its messages. So the window is still true when
 * - its newest message is still there (the refresh starts at it: gone means the conversation
 *   was deleted, perhaps re-created under the same id),
 * - the store has as many messages in the settled part as the window (a message of a
 *   concurrent turn that committed late, out of `seq` order, on PostgreSQL, changes the count),
 * and the refresh re-reads every message from the oldest one not settled, so an answer still
 * streaming when the window was read, a failed or stopped one, comes back with its final text.
 * Anything else rebuilds the window from the store (the newest-first read).
 */

/** Messages read by the first history query; later pages are sized from what it found. */
const FIRST_HISTORY_PAGE = 64;
const MAX_HISTORY_PAGE = 2048;
/** More new messages than this since the window was read (another instance wrote them): read afresh instead. */
const MAX_REFRESH_ROWS = 256;
/** What a kept message costs beyond its text (object, fields, array slot), in characters' worth. */
const ROW_OVERHEAD_CHARS = 48;

export interface HistoryWindowLimits {
  /** Windows kept at most (least recently used first out). Default 4,096; 0 keeps none. */
  maxWindows?: number;
  /** Characters kept at most over all windows (message text, file ids, per-message overhead). Default 8,000,000. */
  maxChars?: number;
}

/** What a turn reads of its conversation's past. */
export interface ConversationPast {
  /** The newest messages that fit the budget, oldest first (as the agent's own trim keeps them). */
  history: AgentHistoryMessage[];
  /** The file ids of the earlier messages that carry files, one list per message, oldest first. */
  fileIdLists: string[][];
}

interface Window {
  /** A contiguous run of the conversation's messages (every one from the first to the last), oldest first. */
  rows: HistoryDelta[];
  /** `rows[0]` is the conversation's first message: nothing older to read. */
  fromStart: boolean;
  /** File id lists of every message up to the last row (not only the rows kept). */
  fileIdLists: string[][];
  chars: number;
}

const unsettled = (status: HistoryEntry['status']) => status === 'streaming' || status === 'interrupted';

export class HistoryWindows {
  readonly #store: Store;
  readonly #maxWindows: number;
  readonly #maxChars: number;
  /** Insertion order is recency: a window is taken out while a turn uses it and put back after. */
  readonly #windows = new Map<string, Window>();
  #chars = 0;

  constructor(store: Store, limits: HistoryWindowLimits = {}) {
    this.#store = store;
    this.#maxWindows = limits.maxWindows ?? 4096;
    this.#maxChars = limits.maxChars ?? 8_000_000;
  }

  /** How many windows and characters are kept (for tests and metrics). */
  get size(): { windows: number; chars: number } {
    return { windows: this.#windows.size, chars: this.#chars };
  }

  /**
   * The history before `current` (the turn's user message) that fits `budgetChars`, and the
   * earlier messages' files: exactly what reading the store newest first would give.
   */
  async read(owner: string, conversationId: string, current: MessageRecord, budgetChars: number): Promise<ConversationPast> {
    const key = `${owner.length}:${owner}${conversationId}`;
    const kept = this.#take(key);
    const window = (kept && (await this.#refresh(kept, owner, conversationId, current.id))) ?? (await this.#seed(owner, conversationId, current.id));
    const history = await this.#walk(window, owner, conversationId, budgetChars);
    this.#put(key, window);
    return { history, fileIdLists: window.fileIdLists };
  }

  /** The window brought up to date, or undefined when the store says it is no longer true. */
  async #refresh(w: Window, owner: string, conversationId: string, beforeId: string): Promise<Window | undefined> {
    const { rows } = w;
    let from = rows.length - 1;
    for (let i = 0; i < rows.length; i++) {
      if (unsettled(rows[i]!.status)) {
        from = i;
        break;
      }
    }
    const lastSeq = rows[rows.length - 1]!.seq;
    const { settled, rows: fresh } = await this.#store.messages.historySince(
      owner,
      conversationId,
      { windowStart: rows[0]!.seq, fromSeq: rows[from]!.seq },
      beforeId,
      MAX_REFRESH_ROWS,
    );
    if (fresh.length === 0 || fresh[0]!.seq !== rows[from]!.seq || settled !== from || fresh.length >= MAX_REFRESH_ROWS) return undefined;
    const next = rows.slice(0, from);
    let newFiles: string[][] | undefined;
    for (const m of fresh) {
      next.push(m);
      if (m.seq > lastSeq && m.fileIds.length > 0) (newFiles ??= []).push(m.fileIds);
    }
    w.rows = next;
    // A new array, never appended to: an earlier turn may still be going through the old one.
    if (newFiles) w.fileIdLists = [...w.fileIdLists, ...newFiles];
    return w;
  }

  /** A window read afresh: the newest page before the turn, and every earlier message's files. */
  async #seed(owner: string, conversationId: string, beforeId: string): Promise<Window> {
    const page = await this.#store.messages.historyPage(owner, conversationId, { id: beforeId }, FIRST_HISTORY_PAGE);
    // After the page, so no message is in the rows without its files: one committed in between
    // has its files listed now and again by the next refresh (the caller's dedupe absorbs it).
    const fileIdLists = await this.#store.messages.fileIdsBefore(owner, conversationId, beforeId);
    const rows = page.reverse().map((m) => ({ ...m, fileIds: [] }));
    return { rows, fromStart: page.length < FIRST_HISTORY_PAGE, fileIdLists, chars: 0 };
  }

  /**
   * Newest first until the budget is full — a message that does not fit ends the walk, empty
   * and still-streaming messages are skipped (never history) — reading older pages when the
   * window runs out. The window then keeps only what the walk needed (what the next turn of the
   * same budget can need) and what it must re-read.
   */
  async #walk(w: Window, owner: string, conversationId: string, budgetChars: number): Promise<AgentHistoryMessage[]> {
    const newestFirst: AgentHistoryMessage[] = [];
    let used = 0;
    let i = w.rows.length - 1;
    for (;;) {
      for (; i >= 0 && budgetChars > 0; i--) {
        const m = w.rows[i]!;
        if (m.content.length === 0 || m.status === 'streaming') continue;
        if (used + m.content.length > budgetChars) break;
        used += m.content.length;
        newestFirst.push({ role: m.role, content: m.content });
      }
      if (i >= 0 || w.fromStart || budgetChars <= 0 || w.rows.length === 0) break;
      // Enough for the rest of the budget at the average length so far, and a margin: usually
      // one more query, rarely more rows than needed.
      const average = Math.max(1, used / Math.max(1, w.rows.length));
      const limit = Math.min(MAX_HISTORY_PAGE, Math.max(FIRST_HISTORY_PAGE, Math.ceil(((budgetChars - used) / average) * 1.25) + 8));
      const older = await this.#store.messages.historyPage(owner, conversationId, { seq: w.rows[0]!.seq }, limit);
      w.fromStart = older.length < limit;
      if (older.length === 0) break;
      w.rows = [...older.reverse().map((m) => ({ ...m, fileIds: [] })), ...w.rows];
      i = older.length - 1;
    }
    // Keep from the message that ended the walk on (with no budget, the newest alone: the
    // refresh's anchor). What is older is read again from the store if a larger budget needs it.
    const keepFrom = Math.max(0, Math.min(i, w.rows.length - 1));
    if (keepFrom > 0) {
      w.rows = w.rows.slice(keepFrom);
      w.fromStart = false;
    }
    return newestFirst.reverse();
  }

  #take(key: string): Window | undefined {
    const w = this.#windows.get(key);
    if (!w) return undefined;
    this.#windows.delete(key);
    this.#chars -= w.chars;
    return w;
  }

  /** Puts the window back as the most recent, and lets the least recent go beyond the limits. */
  #put(key: string, w: Window): void {
    if (w.rows.length === 0) return;
    let chars = 0;
    for (const m of w.rows) chars += m.content.length + ROW_OVERHEAD_CHARS;
    for (const ids of w.fileIdLists) for (const id of ids) chars += id.length + ROW_OVERHEAD_CHARS;
    w.chars = chars;
    if (chars > this.#maxChars || this.#maxWindows <= 0) return;
    // A concurrent turn of the same conversation may have put one back meanwhile: this one is newer.
    this.#take(key);
    this.#windows.set(key, w);
    this.#chars += chars;
    for (const [oldest] of this.#windows) {
      if (this.#windows.size <= this.#maxWindows && this.#chars <= this.#maxChars) break;
      this.#take(oldest);
    }
  }
}
