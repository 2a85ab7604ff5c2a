import { describe, expect, it } from 'vitest';
import { createByteBudget } from '../src/services/byte-budget.ts';

const settled = async <T>(p: Promise<T>): Promise<boolean> => {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  return done;
};

describe('byte budget', () => {
  it('grants what fits at once and makes the rest wait, first come first served', async () => {
    const budget = createByteBudget(100);
    const a = await budget.acquire(60);
    const b = budget.acquire(50);
    const c = budget.acquire(10);
    // c would fit, but b is first: no overtaking, so a large reservation is never starved.
    expect(await settled(b)).toBe(false);
    expect(await settled(c)).toBe(false);
    expect(budget.inUse()).toBe(60);
    a();
    const releaseB = await b;
    const releaseC = await c;
    expect(budget.inUse()).toBe(60);
    releaseB();
    releaseC();
    expect(budget.inUse()).toBe(0);
  });

  it('clamps a reservation larger than the budget to it (it runs alone) and ignores a second release', async () => {
    const budget = createByteBudget(100);
    const big = await budget.acquire(1_000);
    expect(budget.inUse()).toBe(100);
    const next = budget.acquire(1);
    expect(await settled(next)).toBe(false);
    big();
    big();
    (await next)();
    expect(budget.inUse()).toBe(0);
  });

  it('grants zero bytes at once', async () => {
    const budget = createByteBudget(10);
    const all = await budget.acquire(10);
    expect(await settled(budget.acquire(0))).toBe(true);
    all();
  });
});
