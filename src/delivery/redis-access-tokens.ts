import type { RedisHandle } from '../redis/redis.js';
import type { AccessTokenStore, CachedAccessToken } from './providers/shared/access-tokens.js';

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
