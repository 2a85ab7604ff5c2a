import { PresenceLimitError, type AttachInput, type PresenceLease, type PresenceRegistry } from '@colloquy/store';
import { AppError } from '../errors/app-error.ts';

/** `presence.attach`, with its refusal as an AppError (429 at the limit of clients per user). */
export async function attachClient(presence: PresenceRegistry, input: AttachInput): Promise<PresenceLease> {
  try {
    return await presence.attach(input);
  } catch (err) {
    if (err instanceof PresenceLimitError) throw new AppError('TOO_MANY_REQUESTS', err.message, { retryAfterSeconds: 5 });
    throw new AppError('SERVICE_UNAVAILABLE', 'presence is unavailable right now; retry shortly', { cause: err });
  }
}
