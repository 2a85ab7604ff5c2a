import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '@colloquy/store';
import type { TRPCError } from '@trpc/server';
import { ZodError } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContextFactory, type RequestInfo } from '../src/context.ts';
import { createCaller } from '../src/root.ts';
import { createServices } from '../src/services/create-services.ts';
import type { Services } from '../src/services/container.ts';
import { ScriptedAgent } from './support/scripted-agent.ts';
import { config, memoryStore } from './support/turn-fixture.ts';

/**
 * Request parsing at the router's edge: actorProcedure reads the user a call names (its input's
 * `user`, a form's `user` or `user_id`, else X-Colloquy-User) and checks it as every input's
 * `user`, before the procedure's own input is parsed. Through the real router and services.
 */
describe('actorProcedure: the user a call names', () => {
  let store: Store;
  let services: Services;
  let dir: string;
  const callerFor = (info: Partial<RequestInfo> = {}) => createCaller(createContextFactory(services)({ headers: {}, ...info }));

  beforeAll(async () => {
    store = await memoryStore();
    dir = mkdtempSync(join(tmpdir(), 'colloquy-actor-'));
    services = createServices({ config, store, agents: [new ScriptedAgent('local', [[]])], defaultAgent: 'local', blobDir: join(dir, 'blobs') });
    const now = Date.now();
    for (const user of ['ann', 'bob']) {
      await store.conversations.create({ id: `c-${user}`, userId: user, agentId: 'local', name: user, managerId: null, upstreamId: null, inputs: {}, createdAt: now, updatedAt: now });
    }
  });
  afterAll(async () => {
    await services.turns.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const owners = async (caller: ReturnType<typeof callerFor>, input: { user?: string } = {}) =>
    (await caller.conversations.list(input)).items.map((c) => c.userId).sort();

  it('open mode: no user sees every user; a named one (input, else header) only its own', async () => {
    expect(await owners(callerFor())).toEqual(['ann', 'bob']);
    expect(await owners(callerFor(), { user: 'ann' })).toEqual(['ann']);
    expect(await owners(callerFor({ headers: { 'x-colloquy-user': 'bob' } }))).toEqual(['bob']);
    expect(await owners(callerFor({ headers: { 'x-colloquy-user': 'bob' } }), { user: 'ann' })).toEqual(['ann']);
  });

  it('a user key sees its own; naming another user is a 403', async () => {
    const ann = callerFor({ principal: { userId: 'ann', role: 'user' } });
    expect(await owners(ann)).toEqual(['ann']);
    await expect(ann.conversations.list({ user: 'bob' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('a bad user is the same 400 as any bad input field, naming `user`', async () => {
    for (const user of ['', ' \u0007 ', 'x'.repeat(129)]) {
      const err = await callerFor()
        .conversations.list({ user })
        .then(() => undefined, (e: unknown) => e as TRPCError);
      expect(err?.code).toBe('BAD_REQUEST');
      expect(err?.cause).toBeInstanceOf(ZodError);
      expect(new Set((err?.cause as ZodError).issues.map((i) => i.path.join('.')))).toEqual(new Set(['user']));
    }
  });

  it('a form names its user by `user` or `user_id`', async () => {
    const form = new FormData();
    form.set('file', new Blob(['hello']), 'hello.txt');
    form.set('user_id', 'carol');
    expect(await callerFor().files.upload(form)).toMatchObject({ userId: 'carol', name: 'hello.txt' });
    const keyed = new FormData();
    keyed.set('file', new Blob(['hi']), 'hi.txt');
    keyed.set('user', 'bob');
    await expect(callerFor({ principal: { userId: 'ann', role: 'user' } }).files.upload(keyed)).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });
});
