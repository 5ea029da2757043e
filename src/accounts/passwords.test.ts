import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createPasswordHasher } from './passwords.js';

const fast = { memoryKib: 64, iterations: 1, concurrency: 2 };

/** The nice value of each of this process's threads (Linux: /proc/self/task/<tid>/stat, field 19). */
function threadNiceValues(): number[] {
  return readdirSync('/proc/self/task').map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces: state is field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[19 - 3]);
  });
}

describe('password hashing', () => {
  it('hashes with argon2id and verifies only the right password, an absent hash never', async () => {
    const hasher = createPasswordHasher(fast);
    const stored = await hasher.hash('correct horse');
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=64,t=1,p=1\$/);
    expect(await hasher.verify(stored, 'correct horse')).toBe(true);
    expect(await hasher.verify(stored, 'wrong horse')).toBe(false);
    expect(await hasher.verify(null, 'correct horse')).toBe(false);
    expect(await hasher.verify('not a hash', 'correct horse')).toBe(false);
    expect(hasher.needsRehash(stored)).toBe(false);
    expect(createPasswordHasher({ ...fast, memoryKib: 128 }).needsRehash(stored)).toBe(true);
  });

  it('answers many hashes asked at once, each for its own password', async () => {
    const hasher = createPasswordHasher(fast);
    const passwords = Array.from({ length: 12 }, (_, index) => `password-${index}`);
    const hashes = await Promise.all(passwords.map((password) => hasher.hash(password)));
    const checks = await Promise.all(
      hashes.map((stored, index) => hasher.verify(stored, passwords[(index + 1) % passwords.length] ?? '')),
    );
    expect(checks.every((matched) => !matched)).toBe(true);
    expect(
      await Promise.all(hashes.map((stored, index) => hasher.verify(stored, passwords[index] ?? ''))),
    ).toEqual(passwords.map(() => true));
  });

  it.runIf(process.platform === 'linux')('hashes on threads below the event loop’s priority', async () => {
    const before = threadNiceValues().filter((nice) => nice === 10).length;
    await createPasswordHasher({ ...fast, concurrency: 3 }).hash('any password');
    expect(threadNiceValues().filter((nice) => nice === 10).length).toBeGreaterThan(before);
    expect(threadNiceValues()).toContain(0);
  });
});
