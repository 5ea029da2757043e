import type { RedisHandle } from '../redis/redis.js';
import type { Revocation, SessionCache } from './session-cache.js';

/**
 * Makes a revoked session or token (logout, refresh-key reuse, password change, account
 * deletion, single-session login) unusable in every process at once: each revocation is
 * published, and every process drops it from its session cache. While the subscription is
 * down the cache is bypassed, and when it comes back the cache starts empty.
 */
export function shareSessionRevocations(
  cache: SessionCache,
  redis: RedisHandle,
  onError: (error: unknown) => void,
): { close(): Promise<void> } {
  const channel = redis.key('session-revocations');
  const subscriber = redis.connection();
  const lost = () => cache.trust(false);
  subscriber.on('close', lost);
  subscriber.on('reconnecting', lost);
  subscriber.on('ready', () => {
    subscriber.subscribe(channel).then(() => cache.trust(true), onError);
  });
  subscriber.on('message', (from: string, text: string) => {
    if (from !== channel) return;
    try {
      cache.apply(JSON.parse(text) as Revocation);
    } catch (error) {
      onError(error);
    }
  });
  cache.share((revocation) => {
    redis.client.publish(channel, JSON.stringify(revocation)).catch(onError);
  });
  return {
    async close() {
      subscriber.removeAllListeners('close');
      await subscriber.quit().catch(() => subscriber.disconnect());
    },
  };
}
