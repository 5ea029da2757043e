import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Waits until `check` returns a value that is not undefined, looking every few
 * milliseconds. The bound only turns a hang into a failure; no result depends on speed. It is
 * generous: on a loaded machine, a fan-out to a thousand phones on PostgreSQL takes 20 s.
 */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  what: string,
  boundMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + boundMs;
  // Looks soon at first, then less often: a check can be costly (a notification's view of a
  // thousand deliveries) and would otherwise starve the work it waits for.
  let pause = 5;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(pause);
    pause = Math.min(pause * 2, 100);
  }
}
