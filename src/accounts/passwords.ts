import { parseOptions } from '@node-rs/argon2';
import { hashingThreads } from './hashing-threads.js';

export interface PasswordPolicy {
  memoryKib: number;
  iterations: number;
  /** Hashes computed at once; each takes a thread of its own and a core while it runs. */
  concurrency: number;
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** Verifies against a stored hash, or against a dummy one when there is none, taking the same time. */
  verify(storedHash: string | null, password: string): Promise<boolean>;
  /** True when a stored hash was made with parameters other than the current ones. */
  needsRehash(storedHash: string): boolean;
}

/**
 * argon2id (OWASP: 19 MiB, t=2, p=1 by default). The native hash runs on threads of its own at
 * a lowered priority, never on the event loop; the concurrency limit keeps a login storm from
 * taking every core, and the priority lets requests that do not hash go first on the cores it takes.
 */
export function createPasswordHasher(policy: PasswordPolicy): PasswordHasher {
  const options = { memoryCost: policy.memoryKib, timeCost: policy.iterations, parallelism: 1 };
  const threads = hashingThreads(policy.concurrency);
  const hash = async (password: string) =>
    String(await threads.run({ operation: 'hash', password, options }));
  const verify = async (storedHash: string, password: string) =>
    (await threads.run({ operation: 'verify', storedHash, password, options })) === true;
  let dummyHash: Promise<string> | undefined;
  const dummy = () => {
    dummyHash ??= hash('bellhop-dummy-password');
    return dummyHash;
  };

  return {
    hash,
    async verify(storedHash, password) {
      if (storedHash === null) {
        await verify(await dummy(), password);
        return false;
      }
      try {
        return await verify(storedHash, password);
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
