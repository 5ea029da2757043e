import { hash, parseOptions, verify } from '@node-rs/argon2';

export interface PasswordPolicy {
  memoryKib: number;
  iterations: number;
  /** Hashes computed at once; each takes a libuv thread and a core while it runs. */
  concurrency: number;
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** Verifies against a stored hash, or against a dummy one when there is none, taking the same time. */
  verify(storedHash: string | null, password: string): Promise<boolean>;
  /** True when a stored hash was made with parameters other than the current ones. */
  needsRehash(storedHash: string): boolean;
}

/** A counting semaphore: at most `limit` tasks run, the rest wait in order. */
function limiter(limit: number) {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    running += 1;
    try {
      return await task();
    } finally {
      running -= 1;
      waiting.shift()?.();
    }
  };
}

/**
 * argon2id (OWASP: 19 MiB, t=2, p=1 by default). The native hash runs on the libuv thread
 * pool, never on the event loop; the concurrency limit keeps a login storm from taking
 * every core away from the requests that do not hash.
 */
export function createPasswordHasher(policy: PasswordPolicy): PasswordHasher {
  const options = { memoryCost: policy.memoryKib, timeCost: policy.iterations, parallelism: 1 };
  const run = limiter(policy.concurrency);
  let dummyHash: Promise<string> | undefined;
  const dummy = () => {
    dummyHash ??= hash('bellhop-dummy-password', options);
    return dummyHash;
  };

  return {
    hash: (password) => run(() => hash(password, options)),
    async verify(storedHash, password) {
      if (storedHash === null) {
        const reference = await dummy();
        await run(() => verify(reference, password));
        return false;
      }
      try {
        return await run(() => verify(storedHash, password));
      } catch {
        return false;
      }
    },
    needsRehash(storedHash) {
      try {
        const current = parseOptions(storedHash);
        return current.memoryCost !== options.memoryCost || current.timeCost !== options.timeCost;
      } catch {
        return true;
      }
    },
  };
}
