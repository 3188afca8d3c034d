import { describe, expect, it } from 'vitest';
import { withTimeout } from './with-timeout.ts';

describe('withTimeout', () => {
  const timers = (): number => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;

  it('gives the promise\'s value when it settles first, and its rejection as it is, and leaves no timer behind', async () => {
    const before = timers();
    await expect(withTimeout(Promise.resolve(7), 60_000, 'late')).resolves.toBe(7);
    expect(timers()).toBe(before);
    await expect(withTimeout(Promise.reject(new Error('broken')), 1_000, 'late')).rejects.toThrow('broken');
  });

  it('rejects with the message once the time has passed first', async () => {
    const never = new Promise<number>(() => undefined);
    await expect(withTimeout(never, 20, 'it opened no backend within 20 ms')).rejects.toThrow('it opened no backend within 20 ms');
  });
});
