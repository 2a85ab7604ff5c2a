import type { AnswerStream, Citation, ColloquyClient, MessageStatus, StreamEvent, Usage } from '@colloquy/sdk';

/**
 * A running answer as this tab knows it, kept in sessionStorage after every event: the answer
 * text up to `lastEventId`, so a reloaded page shows it at once and re-attaches after that id
 * (`client.resume`) — every later event arrives exactly once, and nothing is shown twice.
 */
export interface PendingTurn {
  messageId: string;
  conversationId: string;
  query: string;
  files: string[];
  answer: string;
  lastEventId: string | undefined;
}

/** What the chat view draws for an answer that is still live (or just ended). */
export interface LiveTurn extends PendingTurn {
  status: MessageStatus | 'starting';
  usage: Usage | null;
  citations: Citation[];
  error: string | null;
}

type StorageLike = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

/** The pending turns of this tab (sessionStorage: per tab, survives a reload). */
export class PendingTurns {
  constructor(
    private readonly storage: StorageLike,
    private readonly key = 'colloquy.pendingTurns',
  ) {}

  all(): PendingTurn[] {
    try {
      const parsed = JSON.parse(this.storage.getItem(this.key) ?? '[]') as unknown;
      return Array.isArray(parsed) ? (parsed as PendingTurn[]).filter((t) => typeof t?.messageId === 'string') : [];
    } catch {
      return [];
    }
  }

  save(turn: PendingTurn): void {
    const { messageId, conversationId, query, files, answer, lastEventId } = turn;
    const others = this.all().filter((t) => t.messageId !== messageId);
    this.storage.setItem(this.key, JSON.stringify([...others, { messageId, conversationId, query, files, answer, lastEventId }]));
  }

  remove(messageId: string): void {
    const left = this.all().filter((t) => t.messageId !== messageId);
    if (left.length === 0) this.storage.removeItem(this.key);
    else this.storage.setItem(this.key, JSON.stringify(left));
  }
}

/** Folds one event into the live turn (a new object). */
export function applyEvent(turn: LiveTurn, event: StreamEvent): LiveTurn {
  const next: LiveTurn = { ...turn, lastEventId: event.id, conversationId: event.conversationId };
  switch (event.event) {
    case 'message':
      next.answer += event.answer;
      if (next.status === 'starting') next.status = 'streaming';
      break;
    case 'message_replace':
      next.answer = event.answer;
      break;
    case 'error':
      next.error = event.message;
      break;
    case 'message_end':
      // A snapshot end (the live stream had expired) carries the whole stored answer.
      if (event.answer !== undefined) next.answer = event.answer;
      next.status = event.status;
      next.usage = event.usage;
      next.citations = event.citations;
      break;
    default:
      break;
  }
  return next;
}

export interface TurnHandle {
  stream: AnswerStream;
  /** Resolves with the last state once the stream ends (ended, failed or abandoned). */
  done: Promise<LiveTurn>;
}

/**
 * Follows `stream`, saving the turn after every event and forgetting it once it ended. A
 * stream abandoned by the page (an AbortError: the tab is going away) stays pending, to be
 * resumed; any other failure ends the turn with its message.
 */
export function follow(stream: AnswerStream, initial: LiveTurn, pending: PendingTurns, onChange: (turn: LiveTurn) => void): Promise<LiveTurn> {
  let turn = initial;
  onChange(turn);
  return (async () => {
    try {
      for await (const event of stream) {
        turn = applyEvent(turn, event);
        if (event.event === 'message_end') pending.remove(turn.messageId);
        else pending.save(turn);
        onChange(turn);
      }
      return turn;
    } catch (err) {
      const e = err as { name?: string; message?: string };
      if (e.name === 'AbortError') return turn;
      pending.remove(turn.messageId);
      turn = { ...turn, status: 'error', error: e.message ?? String(err) };
      onChange(turn);
      return turn;
    }
  })();
}

export interface StartTurnInput {
  conversationId: string;
  query: string;
  files: string[];
  agent?: string | undefined;
}

/** Starts a turn: its message id is chosen here and saved before the request goes out. */
export function startTurn(client: ColloquyClient, input: StartTurnInput, pending: PendingTurns, onChange: (turn: LiveTurn) => void): TurnHandle {
  const messageId = crypto.randomUUID();
  const initial: LiveTurn = {
    messageId,
    conversationId: input.conversationId,
    query: input.query,
    files: input.files,
    answer: '',
    lastEventId: undefined,
    status: 'starting',
    usage: null,
    citations: [],
    error: null,
  };
  pending.save(initial);
  const stream = client.stream({
    conversationId: input.conversationId,
    query: input.query,
    files: input.files.length > 0 ? input.files : undefined,
    agent: input.agent,
    messageId,
  });
  return { stream, done: follow(stream, initial, pending, onChange) };
}

/** Re-attaches to a pending turn after its last saved event. */
export function resumeTurn(client: ColloquyClient, saved: PendingTurn, pending: PendingTurns, onChange: (turn: LiveTurn) => void): TurnHandle {
  const initial: LiveTurn = { ...saved, status: 'streaming', usage: null, citations: [], error: null };
  const stream = client.resume(saved.messageId, { lastEventId: saved.lastEventId });
  return { stream, done: follow(stream, initial, pending, onChange) };
}
