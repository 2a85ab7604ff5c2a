import type { UpstreamTimeouts } from '../upstream/options.ts';

export interface DifyAgentOptions {
  /** Agent id; default 'dify'. Upstream file ids are kept per agent id. */
  id?: string;
  /** The app's Service API base URL as Dify writes it, e.g. `https://api.dify.ai/v1`. */
  baseUrl: string;
  /** The app's API key (`app-…`). */
  apiKey: string;
  /** Values for the app's input variables; default `{}`. */
  inputs?: Record<string, unknown>;
  /** Shown in the agent list; default names the host. */
  description?: string;
  timeouts?: UpstreamTimeouts;
  /** For tests and proxies; default the global fetch. */
  fetch?: typeof fetch;
}
