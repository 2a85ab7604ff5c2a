import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/**
 * The agents a server offers: from the config file (`COLLOQUY_CONFIG`, JSON or YAML) plus the
 * env shortcuts for a single Dify (`DIFY_*` → id `dify`) or OpenAI-compatible (`OPENAI_*` → id
 * `openai`) agent. `local` always exists.
 */
const ms = z.number().int().nonnegative();
const timeoutsSchema = z
  .object({
    firstByteTimeoutMs: ms.optional(),
    idleTimeoutMs: ms.optional(),
    pingIntervalMs: ms.optional(),
    maxRetries: z.number().int().min(0).max(10).optional(),
    retryBackoffMs: ms.optional(),
    probeTimeoutMs: ms.optional(),
  })
  .strict();

const agentId = z.string().trim().regex(/^[\w.-]{1,64}$/, 'an agent id is 1-64 letters, digits, _ . -');
const httpUrl = z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, ''));

export const agentConfigSchema = z.discriminatedUnion('type', [
  z.object({ id: agentId, type: z.literal('local'), description: z.string().optional(), deltaDelayMs: ms.optional() }).strict(),
  z
    .object({
      id: agentId,
      type: z.literal('dify'),
      baseUrl: httpUrl,
      apiKey: z.string().min(1),
      inputs: z.record(z.string(), z.unknown()).optional(),
      description: z.string().optional(),
      timeouts: timeoutsSchema.optional(),
    })
    .strict(),
  z
    .object({
      id: agentId,
      type: z.literal('openai'),
      baseUrl: httpUrl.default('https://api.openai.com/v1'),
      apiKey: z.string().min(1).optional(),
      model: z.string().min(1),
      systemPrompt: z.string().optional(),
      historyBudgetChars: z.number().int().positive().optional(),
      fileTextBudgetChars: z.number().int().positive().optional(),
      description: z.string().optional(),
      timeouts: timeoutsSchema.optional(),
    })
    .strict(),
]);

export type AgentConfig = z.infer<typeof agentConfigSchema>;
export type UpstreamDefaults = z.infer<typeof timeoutsSchema>;

/** The config file. `apiKeys` is read by the auth configuration. */
export const configFileSchema = z
  .object({
    defaultAgent: agentId.optional(),
    agents: z.array(agentConfigSchema).default([]),
    apiKeys: z.array(z.object({ key: z.string().min(1), user: z.string().min(1), role: z.enum(['user', 'admin', 'app']) }).strict()).optional(),
  })
  .strict();

export type ConfigFile = z.infer<typeof configFileSchema>;

/** Reads and validates the config file; `${VAR}` in string values is taken from the environment. */
export function readConfigFile(path: string, env: NodeJS.ProcessEnv): ConfigFile {
  let raw: unknown;
  try {
    const text = readFileSync(path, 'utf8');
    raw = ['.yaml', '.yml'].includes(extname(path).toLowerCase()) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new Error(`COLLOQUY_CONFIG: cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const parsed = configFileSchema.safeParse(interpolate(raw ?? {}, env));
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`COLLOQUY_CONFIG: ${path} is invalid:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

function interpolate(value: unknown, env: NodeJS.ProcessEnv): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Z0-9_]+)\}/g, (_, name: string) => {
      const v = env[name];
      if (v === undefined) throw new Error(`COLLOQUY_CONFIG refers to \${${name}}, which is not set`);
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v) => interpolate(v, env));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env)]));
  }
  return value;
}

export interface AgentEnv {
  DIFY_BASE_URL?: string;
  DIFY_API_KEY?: string;
  OPENAI_BASE_URL?: string;
  OPENAI_API_KEY?: string;
  OPENAI_MODEL?: string;
}

/** The config file's agents, the env shortcuts' and `local`, with ids checked for duplicates. */
export function resolveAgents(file: ConfigFile | undefined, env: AgentEnv): AgentConfig[] {
  const agents: AgentConfig[] = [...(file?.agents ?? [])];
  if (env.DIFY_BASE_URL || env.DIFY_API_KEY) {
    if (!env.DIFY_BASE_URL || !env.DIFY_API_KEY) throw new Error('DIFY_BASE_URL and DIFY_API_KEY must be set together');
    agents.push(agentConfigSchema.parse({ id: 'dify', type: 'dify', baseUrl: env.DIFY_BASE_URL, apiKey: env.DIFY_API_KEY }));
  }
  if (env.OPENAI_BASE_URL || env.OPENAI_API_KEY || env.OPENAI_MODEL) {
    if (!env.OPENAI_MODEL) throw new Error('OPENAI_MODEL must be set to use the OpenAI-compatible agent');
    agents.push(
      agentConfigSchema.parse({
        id: 'openai',
        type: 'openai',
        ...(env.OPENAI_BASE_URL ? { baseUrl: env.OPENAI_BASE_URL } : {}),
        ...(env.OPENAI_API_KEY ? { apiKey: env.OPENAI_API_KEY } : {}),
        model: env.OPENAI_MODEL,
      }),
    );
  }
  if (!agents.some((a) => a.id === 'local')) agents.unshift({ id: 'local', type: 'local' });
  const seen = new Set<string>();
  for (const a of agents) {
    if (seen.has(a.id)) throw new Error(`agent id "${a.id}" is configured twice`);
    seen.add(a.id);
  }
  return agents;
}
