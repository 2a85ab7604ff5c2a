import { request } from 'undici';
import { joinUrl } from '../upstream/options.ts';
import { authHeaders, type DifyContext } from './context.ts';

/**
 * Asks Dify to stop generating (POST /chat-messages/:task_id/stop). Fire-and-forget: aborting
 * our request already ends the turn on our side; this only frees the upstream's work.
 */
export function stopDifyTask(ctx: DifyContext, taskId: string, user: string): void {
  request(joinUrl(ctx.baseUrl, `chat-messages/${encodeURIComponent(taskId)}/stop`), {
    dispatcher: ctx.up.dispatcher,
    method: 'POST',
    headers: { ...authHeaders(ctx), 'Content-Type': 'application/json' },
    body: JSON.stringify({ user }),
    signal: AbortSignal.timeout(ctx.up.timeouts.probeTimeoutMs),
  })
    // Read (and drop) the answer so the connection can be reused.
    .then((response) => response.body.dump())
    .catch(() => undefined);
}
