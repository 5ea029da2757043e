import { createAccountsService } from '../../src/accounts/accounts.service.js';
import { createPasswordHasher, type PasswordHasher } from '../../src/accounts/passwords.js';
import { SessionCache } from '../../src/accounts/session-cache.js';
import { createAuthThrottle } from '../../src/accounts/throttle.js';
import { systemClock } from '../../src/clock.js';
import type { Config } from '../../src/config.js';
import type { DatabaseHandle } from '../../src/db/database.js';

export interface SeededUser {
  id: number;
  username: string;
  /** The plaintext login token of the user's session (the database keeps only its digest). */
  token: string;
}

/** One real argon2id hash of `password` at the server's settings; every seeded user shares it. */
export async function realPasswordHash(policy: Config['passwords'], password: string): Promise<string> {
  return createPasswordHasher(policy).hash(password);
}

/**
 * Creates `count` users, each with one session, through Bellhop's own accounts service
 * (`register`: user row, session, token digest, exactly as the API would write them). The
 * hasher hands back the precomputed real-cost hash instead of hashing 10,000 times, so the
 * stored hashes are genuine argon2id at the server's settings and the login phase of the bench
 * pays the full verification cost.
 */
export async function seedUsers(options: {
  database: DatabaseHandle;
  count: number;
  password: string;
  passwordHash: string;
  sessions: Config['sessions'];
  concurrency: number;
  usernamePrefix: string;
}): Promise<SeededUser[]> {
  const precomputed: PasswordHasher = {
    hash: async () => options.passwordHash,
    verify: async () => true,
    needsRehash: () => false,
  };
  const unlimited = 1_000_000_000;
  const accounts = createAccountsService({
    db: options.database.db,
    clock: systemClock,
    hasher: precomputed,
    cache: new SessionCache(systemClock, 0, 0),
    throttle: createAuthThrottle(systemClock, {
      authPerIp: unlimited,
      authWindowSeconds: 60,
      failuresPerAccountAndIp: unlimited,
      failuresPerAccount: unlimited,
      failureWindowSeconds: 60,
      blockSeconds: 1,
    }),
    sessions: options.sessions,
    recentLoginSeconds: 600,
  });
  const client = { ip: '127.0.0.1', userAgent: 'bellhop-bench-seed' };
  const users: SeededUser[] = new Array(options.count);
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < options.count; index = next++) {
      const username = `${options.usernamePrefix}${String(index).padStart(5, '0')}`;
      const login = await accounts.register({ username, password: options.password }, client);
      users[index] = { id: login.id, username, token: login.token };
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker));
  return users;
}
