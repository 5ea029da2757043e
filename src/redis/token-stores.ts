import { randomUUID } from 'node:crypto';
import type { AccessTokenStore, CachedAccessToken } from '../delivery/providers/shared/access-tokens.js';
import type { ProviderToken, ProviderTokenStore } from '../delivery/providers/shared/provider-tokens.js';
import type { RedisHandle } from './redis.js';

/** APNs refuses a JWT older than an hour: nobody needs it in the store after that. */
const PROVIDER_TOKEN_TTL_MS = 60 * 60_000;
/** Signing takes a millisecond; the lock only has to outlive one look at the store and one write. */
const LOCK_MS = 5_000;
const LOCK_WAIT_MS = 10_000;

const releaseScript =
  "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

const ttlOf = (token: ProviderToken) => Math.max(1_000, token.issuedAt + PROVIDER_TOKEN_TTL_MS - Date.now());

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** How long a process reuses what it read from Redis before it reads again. */
const MEMO_MS = 5_000;

/**
 * Provider tokens (APNs's JWT) shared by every process: one per signing key, with its issue
 * time. A new one is signed under a short lock (SET NX PX), after another look at the store,
 * so N processes sign once between them. Reads are kept for a few seconds, so that sending
 * costs no Redis round trip; a token APNs refused is looked up afresh under the lock.
 */
export function redisProviderTokenStore(redis: RedisHandle): ProviderTokenStore {
  const client = redis.client;
  const keyOf = (key: string) => redis.key('apns-jwt', key);
  const memo = new Map<string, { token: ProviderToken | undefined; readAt: number }>();
  return {
    async get(key) {
      const seen = memo.get(key);
      if (seen !== undefined && Date.now() - seen.readAt < MEMO_MS) return seen.token;
      try {
        const raw = await client.get(keyOf(key));
        if (raw === null && seen?.token !== undefined) {
          // Redis lost it (restarted empty): put back the token every process already uses,
          // rather than sign a new one before its time.
          await client.set(keyOf(key), JSON.stringify(seen.token), 'PX', ttlOf(seen.token), 'NX');
          memo.set(key, { token: seen.token, readAt: Date.now() });
          return seen.token;
        }
        const token = raw === null ? undefined : (JSON.parse(raw) as ProviderToken);
        memo.set(key, { token, readAt: Date.now() });
        return token;
      } catch (error) {
        // Redis away: the token this process last saw still signs requests (APNs checks its age).
        if (seen?.token !== undefined) return seen.token;
        throw error;
      }
    },
    async set(key, value) {
      await client.set(keyOf(key), JSON.stringify(value), 'PX', ttlOf(value));
      memo.set(key, { token: value, readAt: Date.now() });
    },
    async exclusive(key, work) {
      const lock = redis.key('apns-jwt-lock', key);
      const owner = randomUUID();
      const deadline = Date.now() + LOCK_WAIT_MS;
      while ((await client.set(lock, owner, 'PX', LOCK_MS, 'NX')) === null) {
        if (Date.now() > deadline) throw new Error('provider token lock not acquired');
        await sleep(25 + Math.random() * 50);
      }
      try {
        memo.delete(key);
        return await work();
      } finally {
        await client.eval(releaseScript, 1, lock, owner).catch(() => {});
      }
    },
  };
}

/** OAuth access tokens (FCM, the phone makers) shared by every process, kept until they expire. */
export function redisAccessTokenStore(redis: RedisHandle): AccessTokenStore {
  const keyOf = (key: string) => redis.key('access-token', key);
  return {
    async get(key) {
      const raw = await redis.client.get(keyOf(key));
      return raw === null ? undefined : (JSON.parse(raw) as CachedAccessToken);
    },
    async set(key, value) {
      const ttl = value.expiresAt - Date.now();
      if (ttl > 0) await redis.client.set(keyOf(key), JSON.stringify(value), 'PX', ttl);
    },
  };
}
