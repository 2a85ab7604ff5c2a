import { asObject, asString, parseJson } from './json.ts';

const MAX_MESSAGE_CHARS = 500;

/**
 * The message and code of an upstream error body. Understands Dify (`{code, message, status}`),
 * OpenAI (`{error: {message, type, code}}`), Ollama (`{error: "..."}`) and FastAPI
 * (`{detail}`) shapes; falls back to the start of the raw text.
 */
export function describeErrorBody(text: string): { message?: string; code?: string } {
  const body = asObject(parseJson(text));
  if (body) {
    const nested = asObject(body.error);
    const message =
      asString(nested?.message) ?? asString(body.error) ?? asString(body.message) ?? asString(body.detail);
    const code = asString(nested?.code) ?? asString(nested?.type) ?? asString(body.code);
    if (message !== undefined) return { message: clip(message), ...(code ? { code } : {}) };
  }
  const raw = text.trim();
  return raw && !raw.startsWith('<') ? { message: clip(raw) } : {};
}

function clip(text: string): string {
  return text.length > MAX_MESSAGE_CHARS ? `${text.slice(0, MAX_MESSAGE_CHARS)}…` : text;
}
