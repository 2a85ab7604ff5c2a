import type { AgentUsage } from '../types.ts';
import { asArray, asNumber, asObject, asString, parseJson } from '../upstream/json.ts';

/** What one `chat.completion.chunk` (or an error object sent in its place) carries for us. */
export interface ParsedChunk {
  content: string;
  finished: boolean;
  usage?: AgentUsage;
  error?: { message: string; code?: string };
}

/** Undefined for data that is not a JSON object: such lines are skipped. */
export function parseChunk(data: string): ParsedChunk | undefined {
  const chunk = asObject(parseJson(data));
  if (!chunk) return undefined;
  const error = asObject(chunk.error);
  if (error || typeof chunk.error === 'string' || chunk.object === 'error') {
    const message = asString(error?.message) ?? asString(chunk.error) ?? asString(chunk.message) ?? 'unknown error';
    const code = asString(error?.code) ?? asString(error?.type) ?? asString(chunk.code);
    return { content: '', finished: false, error: { message, ...(code ? { code } : {}) } };
  }
  const choice = asObject(asArray(chunk.choices)[0]);
  const usage = asObject(chunk.usage);
  const promptTokens = asNumber(usage?.prompt_tokens) ?? 0;
  const completionTokens = asNumber(usage?.completion_tokens) ?? 0;
  return {
    content: asString(asObject(choice?.delta)?.content) ?? '',
    finished: !!asString(choice?.finish_reason),
    ...(usage
      ? {
          usage: {
            promptTokens,
            completionTokens,
            totalTokens: asNumber(usage.total_tokens) ?? promptTokens + completionTokens,
          },
        }
      : {}),
  };
}
