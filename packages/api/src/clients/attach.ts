import { PresenceConflictError, PresenceLimitError, type AttachInput, type PresenceLease, type PresenceRegistry } from '@colloquy/store';
import { AppError } from '../errors/app-error.ts';

/** `presence.attach`, with its refusals as AppErrors (409 for an id in use, 429 at the limit). */
export function attachClient(presence: PresenceRegistry, input: AttachInput): PresenceLease {
  try {
    return presence.attach(input);
  } catch (err) {
    if (err instanceof PresenceConflictError) throw new AppError('CONFLICT', err.message);
    if (err instanceof PresenceLimitError) throw new AppError('TOO_MANY_REQUESTS', err.message, { retryAfterSeconds: 5 });
    throw err;
  }
}
