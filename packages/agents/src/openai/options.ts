import type { Dispatcher } from 'undici';
import type { UpstreamTimeouts } from '../upstream/options.ts';

export interface OpenAIAgentOptions {
  /** Agent id; default 'openai'. */
  id?: string;
  /** Base URL as the server writes it, e.g. `https://api.openai.com/v1`, `http://localhost:11434/v1`. */
  baseUrl: string;
  /** Sent as a bearer token when set; local servers often need none. */
  apiKey?: string;
  model: string;
  /** Instructions put first in the system message. */
  systemPrompt?: string;
  /** Characters of earlier messages sent along; the oldest are dropped first. Default 24 000. */
  historyBudgetChars?: number;
  /** Characters of file text sent in the system message, shared fairly between files. Default 32 000. */
  fileTextBudgetChars?: number;
  /** Shown in the agent list; default names the model and host. */
  description?: string;
  timeouts?: UpstreamTimeouts;
  /**
   * undici dispatcher for every call to the upstream, for tests and proxies (e.g. undici's
   * ProxyAgent); default a keep-alive pool shared by all agents. A dispatcher's own header and
   * body timeouts (undici's default 300 s) apply besides `timeouts`.
   */
  dispatcher?: Dispatcher;
}
