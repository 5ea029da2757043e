import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Waits until `check` returns a value that is not undefined, looking every few
 * milliseconds. The bound only turns a hang into a failure; no result depends on speed.
 */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  what: string,
  boundMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + boundMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
