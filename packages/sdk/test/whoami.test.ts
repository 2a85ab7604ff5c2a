import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, UnauthorizedError } from '../src/index.ts';
import { startSdkFixture, type SdkFixture } from './support/fixture.ts';

describe('whoami', () => {
  describe('open mode', () => {
    let fx: SdkFixture;
    beforeAll(async () => {
      fx = await startSdkFixture();
    });
    afterAll(() => fx?.dispose());

    it('names the user the client acts for, or none (every user) without one', async () => {
      expect(await createClient({ baseUrl: fx.server.url, user: 'ada' }).whoami()).toEqual({ role: 'open', user: 'ada', owner: 'ada', keyUser: null });
      expect(await createClient({ baseUrl: fx.server.url }).whoami()).toEqual({ role: 'open', user: null, owner: 'default', keyUser: null });
    });
  });

  describe('with API keys', () => {
    let fx: SdkFixture;
    const USER_KEY = 'whoami-user-key-0123456789';
    const ADMIN_KEY = 'whoami-admin-key-0123456789';
    beforeAll(async () => {
      fx = await startSdkFixture({ API_KEYS: `${USER_KEY}:alice:user,${ADMIN_KEY}:ops:admin` });
    });
    afterAll(() => fx?.dispose());

    it('tells the key’s user and role; an admin acting for a user names both', async () => {
      expect(await createClient({ baseUrl: fx.server.url, apiKey: USER_KEY }).whoami()).toEqual({ role: 'user', user: 'alice', owner: 'alice', keyUser: 'alice' });
      expect(await createClient({ baseUrl: fx.server.url, apiKey: ADMIN_KEY }).whoami()).toEqual({ role: 'admin', user: null, owner: 'ops', keyUser: 'ops' });
      expect(await createClient({ baseUrl: fx.server.url, apiKey: ADMIN_KEY, user: 'bob' }).whoami()).toEqual({ role: 'admin', user: 'bob', owner: 'bob', keyUser: 'ops' });
      await expect(createClient({ baseUrl: fx.server.url, apiKey: 'wrong-key-0123456789', maxRetries: 0 }).whoami()).rejects.toBeInstanceOf(UnauthorizedError);
    });
  });
});
