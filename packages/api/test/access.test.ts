import { describe, expect, it } from 'vitest';
import { appEndUser, findByOwnId, headerUserOf, identityOf, isVisible, resolveActor, userFrom, type Identity } from '../src/access.ts';
import { AppError } from '../src/errors/app-error.ts';

const open = (headerUser?: string): Identity => ({ kind: 'open', headerUser });
const key = (role: 'user' | 'admin' | 'app', userId: string, headerUser?: string): Identity => ({ kind: 'key', userId, role, headerUser });

describe('resolveActor: the access policy table', () => {
  // identity, named user, expected actor (or the AppError code it refuses with)
  const table: Array<[string, Identity, string | undefined, { scope: string | undefined; owner: string; isolated: boolean } | string]> = [
    ['open, nobody named: sees all, creates as the default user', open(), undefined, { scope: undefined, owner: 'default', isolated: false }],
    ['open, a user named: that user', open(), 'ann', { scope: 'ann', owner: 'ann', isolated: false }],
    ['open, the header names the user', open('bob'), undefined, { scope: 'bob', owner: 'bob', isolated: false }],
    ['open, a field beats the header', open('bob'), 'ann', { scope: 'ann', owner: 'ann', isolated: false }],
    ['user key, nobody named: its own user', key('user', 'ann'), undefined, { scope: 'ann', owner: 'ann', isolated: true }],
    ['user key naming itself', key('user', 'ann'), 'ann', { scope: 'ann', owner: 'ann', isolated: true }],
    ['user key naming another user: 403', key('user', 'ann'), 'bob', 'FORBIDDEN'],
    ['user key, the header naming another user: 403', key('user', 'ann', 'bob'), undefined, 'FORBIDDEN'],
    ['admin key, nobody named: sees all, creates as itself', key('admin', 'root'), undefined, { scope: undefined, owner: 'root', isolated: false }],
    ['admin key naming a user: acts as that user', key('admin', 'root'), 'ann', { scope: 'ann', owner: 'ann', isolated: true }],
    ['app key naming an end user: in the app’s namespace', key('app', 'shop'), 'ann', { scope: 'shop:ann', owner: 'shop:ann', isolated: true }],
    ['app key, the header names the end user', key('app', 'shop', 'ann'), undefined, { scope: 'shop:ann', owner: 'shop:ann', isolated: true }],
    ['app key naming nobody: 400', key('app', 'shop'), undefined, 'BAD_REQUEST'],
  ];
  for (const [name, identity, named, expected] of table) {
    it(name, () => {
      if (typeof expected === 'string') {
        let caught: unknown;
        try {
          resolveActor(identity, named, 'default');
        } catch (err) {
          caught = err;
        }
        expect(caught).toBeInstanceOf(AppError);
        expect((caught as AppError).code).toBe(expected);
      } else {
        expect(resolveActor(identity, named, 'default')).toEqual(expected);
      }
    });
  }
});

describe('isVisible', () => {
  it('an actor that sees every user sees any record; a scoped one only its user’s', () => {
    expect(isVisible({ scope: undefined, owner: 'x', isolated: false }, 'ann')).toBe(true);
    expect(isVisible({ scope: 'ann', owner: 'ann', isolated: true }, 'ann')).toBe(true);
    expect(isVisible({ scope: 'ann', owner: 'ann', isolated: true }, 'bob')).toBe(false);
    expect(isVisible({ scope: appEndUser('shop', 'ann'), owner: 'shop:ann', isolated: true }, 'ann')).toBe(false);
  });
});

describe('userFrom: user, alias user_id, from the first source naming either', () => {
  it('prefers user over user_id within a source', () => {
    expect(userFrom({ user: 'a', user_id: 'b' })).toBe('a');
    expect(userFrom({ user_id: 'b' })).toBe('b');
  });
  it('takes the first source that names one (a body before its query)', () => {
    expect(userFrom({ query: 'x' }, { user_id: 'q' })).toBe('q');
    expect(userFrom({ user: 'body' }, { user: 'query' })).toBe('body');
  });
  it('reads forms, search params and maps, and the first of repeated values', () => {
    const form = new FormData();
    form.set('user_id', 'f');
    expect(userFrom(form)).toBe('f');
    expect(userFrom(new URLSearchParams('user=s&user=t'))).toBe('s');
    expect(userFrom(new Map([['user', 'm']]))).toBe('m');
    expect(userFrom({ user: ['a', 'b'] })).toBe('a');
  });
  it('returns what is there, raw (the caller checks it): an empty string or a number too', () => {
    expect(userFrom({ user: '' }, { user: 'later' })).toBe('');
    expect(userFrom({ user: 5 })).toBe(5);
    expect(userFrom({ user: null }, undefined, null, { user_id: 'z' })).toBe('z');
    expect(userFrom(undefined, {})).toBeUndefined();
  });
});

describe('identityOf and the X-Colloquy-User header', () => {
  it('the header is trimmed, empty means none, the first of several counts', () => {
    expect(headerUserOf({ 'x-colloquy-user': '  ann ' })).toBe('ann');
    expect(headerUserOf({ 'x-colloquy-user': '  ' })).toBeUndefined();
    expect(headerUserOf({ 'x-colloquy-user': ['a', 'b'] })).toBe('a');
  });
  it('a principal makes a key identity, none an open one', () => {
    expect(identityOf({ userId: 'ann', role: 'user' }, { 'x-colloquy-user': 'bob' })).toEqual({ kind: 'key', userId: 'ann', role: 'user', headerUser: 'bob' });
    expect(identityOf(undefined, {})).toEqual({ kind: 'open', headerUser: undefined });
  });
});

describe('findByOwnId: ids each user has of their own', () => {
  const records = [
    { owner: 'ann', id: 'x' },
    { owner: 'bob', id: 'x' },
    { owner: 'bob', id: 'y' },
  ];
  const find = {
    own: async (owner: string, id: string) => records.find((r) => r.owner === owner && r.id === id),
    anyOwner: async (id: string, limit: number) => records.filter((r) => r.id === id).slice(0, limit),
  };
  const scoped = (user: string) => ({ scope: user, owner: user, isolated: true });
  const everyone = { scope: undefined, owner: 'root', isolated: false };

  it('a scoped actor finds only its own user’s record of that id', async () => {
    expect(await findByOwnId(scoped('ann'), 'x', find, 'ambiguous')).toEqual({ owner: 'ann', id: 'x' });
    expect(await findByOwnId(scoped('ann'), 'y', find, 'ambiguous')).toBeUndefined();
  });
  it('an actor that sees every user finds the one record, and a 409 when several users have the id', async () => {
    expect(await findByOwnId(everyone, 'y', find, 'ambiguous')).toEqual({ owner: 'bob', id: 'y' });
    expect(await findByOwnId(everyone, 'z', find, 'ambiguous')).toBeUndefined();
    await expect(findByOwnId(everyone, 'x', find, 'x is ambiguous')).rejects.toMatchObject({ code: 'CONFLICT', message: 'x is ambiguous' });
  });
});
