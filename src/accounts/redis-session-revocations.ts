import { randomUUID } from 'node:crypto';
import type { RedisHandle } from '../redis/redis.js';
import type { Revocation, SessionCache } from './session-cache.js';

/** How long a revoking request waits for every process to acknowledge, at most. */
const ACK_TIMEOUT_MS = 1_000;

/** A revocation as published: who to acknowledge to, and under which id. */
interface Announcement extends Revocation {
  ack?: { to: string; id: string };
}

/**
 * Makes a revoked session or token (logout, refresh-key reuse, password change, account
 * deletion, single-session login) unusable in every process at once: each revocation is
 * published, every process drops it from its session cache and acknowledges, and the
 * revoking request answers only once as many processes acknowledged as PUBLISH reached (or
 * after `ackTimeoutMs`, reported through `onError`). The hot path (a cached token) costs
 * nothing more: only revocations wait. While the subscription is down the cache is bypassed,
 * and when it comes back the cache starts empty.
 */
export function shareSessionRevocations(
  cache: SessionCache,
  redis: RedisHandle,
  onError: (error: unknown) => void,
  options: { ackTimeoutMs?: number } = {},
): { close(): Promise<void> } {
  const channel = redis.key('session-revocations');
  const self = randomUUID();
  const ackChannelOf = (process: string) => redis.key('session-revocations', 'acks', process);
  const acks = ackChannelOf(self);
  const waiting = new Map<string, () => void>();
  const subscriber = redis.connection();
  const lost = () => cache.trust(false);
  subscriber.on('close', lost);
  subscriber.on('reconnecting', lost);
  subscriber.on('ready', () => {
    subscriber.subscribe(channel, acks).then(() => cache.trust(true), onError);
  });
  subscriber.on('message', (from: string, text: string) => {
    if (from === acks) {
      waiting.get(text)?.();
      return;
    }
    if (from !== channel) return;
    try {
      const announcement = JSON.parse(text) as Announcement;
      cache.apply(announcement);
      if (announcement.ack !== undefined)
        redis.client.publish(ackChannelOf(announcement.ack.to), announcement.ack.id).catch(onError);
    } catch (error) {
      onError(error);
    }
  });
  const announce = announcer(redis, channel, self, waiting, options.ackTimeoutMs ?? ACK_TIMEOUT_MS);
  cache.share((revocation) => announce(revocation).catch(onError));
  return {
    async close() {
      subscriber.removeAllListeners('close');
      await subscriber.quit().catch(() => subscriber.disconnect());
    },
  };
}

/**
 * Publishes a revocation and settles once every process it reached (this one included)
 * acknowledged it; rejects when that took longer than `timeoutMs` or could not be published.
 */
function announcer(
  redis: RedisHandle,
  channel: string,
  self: string,
  waiting: Map<string, () => void>,
  timeoutMs: number,
) {
  let sequence = 0;
  return async (revocation: Revocation): Promise<void> => {
    sequence += 1;
    const id = String(sequence);
    let acknowledged = 0;
    let reached = Number.POSITIVE_INFINITY;
    let settle = () => {};
    const all = new Promise<void>((resolve) => {
      settle = resolve;
    });
    // Listening before publishing: an acknowledgement may come before PUBLISH's answer.
    waiting.set(id, () => {
      acknowledged += 1;
      if (acknowledged >= reached) settle();
    });
    const timer = setTimeout(settle, timeoutMs);
    try {
      const announcement: Announcement = { ...revocation, ack: { to: self, id } };
      reached = await redis.client.publish(channel, JSON.stringify(announcement));
      if (acknowledged >= reached) settle();
      await all;
      if (acknowledged < reached) {
        throw new Error(
          `session revocation: ${acknowledged} of ${reached} processes acknowledged within ${timeoutMs} ms`,
        );
      }
    } finally {
      clearTimeout(timer);
      waiting.delete(id);
    }
  };
}
