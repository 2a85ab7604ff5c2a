import type { AgentCitation, AgentEvent, AgentUsage } from '../types.ts';
import { UpstreamError } from '../upstream/errors.ts';
import { asArray, asNumber, asObject, asString, parseJson, type JsonObject } from '../upstream/json.ts';
import type { EventSourceMessage } from '../upstream/sse.ts';
import type { DifyContext } from './context.ts';

/** What the mapping has learnt from a Dify stream so far. */
export interface DifyStreamState {
  taskId?: string;
  conversationId?: string;
  /** `message_end` arrived: the answer is complete. */
  ended: boolean;
  /** Dify's task is over (message_end, its error event, or the stream ended): nothing to stop. */
  finished: boolean;
  /** Last thought/tool emitted per agent_thought id: Dify re-sends a thought as it progresses. */
  thoughts: Map<string, string>;
}

export function newStreamState(): DifyStreamState {
  return { ended: false, finished: false, thoughts: new Map() };
}

/**
 * Our events for one Dify streaming chunk (Dify Service API, Chat App: ChunkChatCompletionResponse).
 * Throws on Dify's `error` event. Unknown events (workflow_*, node_*, tts_*, Dify's own ping,
 * which our keep-alive replaces) and undecodable chunks yield nothing.
 */
export function mapDifyEvent(ctx: DifyContext, message: EventSourceMessage, state: DifyStreamState): AgentEvent[] {
  const data = asObject(parseJson(message.data));
  if (!data) return [];
  const out: AgentEvent[] = [];
  state.taskId = asString(data.task_id) || state.taskId;
  const conversationId = asString(data.conversation_id);
  if (conversationId && state.conversationId === undefined) {
    state.conversationId = conversationId;
    out.push({ event: 'upstream_conversation', upstreamConversationId: conversationId });
  }

  switch (asString(data.event) ?? message.event) {
    case 'message':
    case 'agent_message': {
      const answer = asString(data.answer);
      if (answer) out.push({ event: 'message', answer });
      break;
    }
    case 'agent_thought': {
      const thought = asString(data.thought) ?? '';
      const tool = asString(data.tool) ?? '';
      const id = asString(data.id) ?? '';
      const key = `${thought}\u0000${tool}`;
      if ((thought || tool) && state.thoughts.get(id) !== key) {
        state.thoughts.set(id, key);
        out.push({ event: 'agent_thought', thought, ...(tool ? { tool } : {}) });
      }
      break;
    }
    case 'message_file': {
      const fileId = asString(data.id);
      if (!fileId) break;
      const url = asString(data.url);
      const type = asString(data.type);
      out.push({ event: 'message_file', fileId, ...(url ? { url: absoluteUrl(ctx, url) } : {}), ...(type ? { type } : {}) });
      break;
    }
    case 'message_replace':
      out.push({ event: 'message_replace', answer: asString(data.answer) ?? '' });
      break;
    case 'message_end': {
      state.ended = true;
      state.finished = true;
      const metadata = asObject(data.metadata);
      const usage = toUsage(asObject(metadata?.usage));
      out.push({ event: 'message_end', ...(usage ? { usage } : {}), citations: toCitations(metadata?.retriever_resources) });
      break;
    }
    case 'error': {
      state.finished = true;
      const code = asString(data.code);
      const status = asNumber(data.status);
      const detail = asString(data.message) ?? 'unknown error';
      throw new UpstreamError(`${ctx.up.label} reported an error${code ? ` (${code})` : ''}: ${detail}`, {
        code: code ?? 'stream_error',
        ...(status !== undefined ? { status } : {}),
        secrets: ctx.up.secrets,
      });
    }
  }
  return out;
}

function toUsage(usage: JsonObject | undefined): AgentUsage | undefined {
  if (!usage) return undefined;
  const promptTokens = asNumber(usage.prompt_tokens) ?? 0;
  const completionTokens = asNumber(usage.completion_tokens) ?? 0;
  return { promptTokens, completionTokens, totalTokens: asNumber(usage.total_tokens) ?? promptTokens + completionTokens };
}

function toCitations(resources: unknown): AgentCitation[] {
  return asArray(resources).flatMap((r) => {
    const res = asObject(r);
    if (!res) return [];
    return [
      {
        fileId: asString(res.document_id) ?? null,
        fileName: asString(res.document_name) ?? asString(res.dataset_name) ?? '',
        passage: asString(res.content) ?? '',
        score: asNumber(res.score) ?? 0,
      },
    ];
  });
}

/** Dify often sends file URLs as paths (`/files/…`) relative to its own host. */
function absoluteUrl(ctx: DifyContext, url: string): string {
  try {
    return new URL(url, ctx.baseUrl).toString();
  } catch {
    return url;
  }
}
