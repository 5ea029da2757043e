import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { redisCounters } from './accounts/redis-counters.js';
import { shareSessionRevocations } from './accounts/redis-session-revocations.js';
import type { SessionCache } from './accounts/session-cache.js';
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import type { Database } from './db/schema.js';
import { createBullmqQueue } from './delivery/queue/bullmq-queue.js';
import { redisAccessTokenStore } from './delivery/redis-access-tokens.js';
import type { RedisHandle } from './redis/redis.js';

export type ScaleOut = ReturnType<typeof createScaleOut>;

/**
 * What several processes must share, on Redis: the delivery queue, rate-limit counters, session
 * revocations, and the providers' OAuth access tokens (APNs's JWT is kept in the database, which
 * outlives a Redis restart). Wired here as services.ts wires the rest, and loaded only in
 * scale-out mode, so that the embedded default never loads Redis or BullMQ.
 */
export function createScaleOut(
  redis: RedisHandle,
  deps: { config: Config; db: Kysely<Database>; clock: Clock; logger: Logger },
) {
  const { config, clock, logger } = deps;
  const warn = (what: string) => (error: unknown) => logger.warn({ err: error }, what);
  return {
    queue: createBullmqQueue({
      redis,
      db: deps.db,
      clock,
      batchSize: config.delivery.batchSize,
      concurrency: 4,
      leaseMs: config.delivery.leaseSeconds * 1000,
      sweepMs: (config.redis?.sweepSeconds ?? 15) * 1000,
      onError: warn('delivery queue error'),
    }),
    counters: redisCounters(redis, clock, warn('Redis unavailable: rate limits are counted per process')),
    accessTokens: redisAccessTokenStore(redis),
    shareSessions: (cache: SessionCache) =>
      shareSessionRevocations(cache, redis, warn('session revocations: Redis error')),
    ping: () => redis.ping(),
  };
}
