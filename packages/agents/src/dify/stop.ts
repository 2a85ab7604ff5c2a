import { joinUrl } from '../upstream/options.ts';
import { authHeaders, type DifyContext } from './context.ts';

/**
 * Asks Dify to stop generating (POST /chat-messages/:task_id/stop). Fire-and-forget: aborting
 * our request already ends the turn on our side; this only frees the upstream's work.
 */
export function stopDifyTask(ctx: DifyContext, taskId: string, user: string): void {
  ctx.up
    .fetch(joinUrl(ctx.baseUrl, `chat-messages/${encodeURIComponent(taskId)}/stop`), {
      method: 'POST',
      headers: { ...authHeaders(ctx), 'Content-Type': 'application/json' },
      body: JSON.stringify({ user }),
      signal: AbortSignal.timeout(ctx.up.timeouts.probeTimeoutMs),
    })
    .then((response) => response.body?.cancel())
    .catch(() => undefined);
}
