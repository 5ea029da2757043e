import { Redis, type RedisOptions } from 'ioredis';

export interface RedisHandle {
  /**
   * For short commands (counters, token stores, publishing): fails at once while the
   * connection is down instead of queueing, so that callers fall back without waiting.
   */
  client: Redis;
  /** Names every key and channel of this deployment (`REDIS_PREFIX`). */
  prefix: string;
  key(...parts: string[]): string;
  /** A connection of its own, for blocking or subscribing uses (BullMQ, pub/sub). */
  connection(options?: RedisOptions): Redis;
  /** Resolves once connected, or after `ms` whatever happened (Redis may come later). */
  connected(ms: number): Promise<boolean>;
  /** A cheap round trip, for readiness checks. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

const reconnect: RedisOptions = {
  // Reconnect for ever, at most 2 s apart: a Redis restart is survived without operator help.
  retryStrategy: (times) => Math.min(100 * times, 2_000),
  reconnectOnError: () => true,
};

export function createRedis(
  url: string,
  prefix: string,
  onError: (error: Error, connection: string) => void,
): RedisHandle {
  const opened = new Set<Redis>();
  const open = (name: string, options: RedisOptions): Redis => {
    const redis = new Redis(url, { ...reconnect, connectionName: `bellhop-${name}`, ...options });
    // Logged once per outage, not at every reconnection attempt.
    let reported = false;
    redis.on('error', (error: Error) => {
      if (!reported) onError(error, name);
      reported = true;
    });
    redis.on('ready', () => {
      reported = false;
    });
    opened.add(redis);
    return redis;
  };
  const client = open('commands', {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 2_000,
  });
  let counter = 0;
  return {
    client,
    prefix,
    key: (...parts) => [prefix, ...parts].join(':'),
    connection: (options = {}) => {
      counter += 1;
      return open(`connection-${counter}`, { maxRetriesPerRequest: null, ...options });
    },
    async connected(ms) {
      if (client.status === 'ready') return true;
      return new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => done(false), ms);
        const done = (ready: boolean) => {
          clearTimeout(timer);
          client.off('ready', onReady);
          resolve(ready);
        };
        const onReady = () => done(true);
        client.on('ready', onReady);
      });
    },
    async ping() {
      await client.ping();
    },
    async close() {
      await Promise.allSettled(
        [...opened].map((redis) =>
          redis.status === 'end' ? undefined : redis.quit().catch(() => redis.disconnect()),
        ),
      );
    },
  };
}
