import type { MessageStatus, Usage } from '@colloquy/store';

/**
 * The logging the api package needs: pino's call shape (`log.warn({ err, ...fields }, 'msg')`),
 * so the server's pino logger fits as is and the package does not depend on pino.
 */
export interface Logger {
  error(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  info(fields: object, message?: string): void;
  debug(fields: object, message?: string): void;
}

/**
 * What the turn service reports about each turn, for metrics. The server implements it with
 * prom-client; the api package never depends on a metrics library. Called once or twice per
 * turn (never per event), so implementations may do a little work.
 */
export interface TurnObserver {
  /** A turn's agent run began. */
  onTurnStarted(agentId: string): void;
  /** The first answer text arrived, `ms` after the run began. */
  onFirstToken(agentId: string, ms: number): void;
  /** The turn ended with its final status, `ms` after the run began. */
  onTurnEnded(agentId: string, status: MessageStatus, usage: Usage | null, ms: number): void;
}

const ignore = () => undefined;

export const silentLogger: Logger = { error: ignore, warn: ignore, info: ignore, debug: ignore };

export const noTurnObserver: TurnObserver = { onTurnStarted: ignore, onFirstToken: ignore, onTurnEnded: ignore };
