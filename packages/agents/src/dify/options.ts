import type { Dispatcher } from 'undici';
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
  /**
   * undici dispatcher for every call to the upstream, for tests and proxies (e.g. undici's
   * ProxyAgent); default a keep-alive pool shared by all agents. A dispatcher's own header and
   * body timeouts (undici's default 300 s) apply besides `timeouts`.
   */
  dispatcher?: Dispatcher;
}
