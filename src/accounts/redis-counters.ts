import type { Clock } from '../clock.js';
import type { RedisHandle } from '../redis/redis.js';
import { type CounterFactory, localCounters } from './throttle.js';

/**
 * One fixed-window count with a block, atomically: the same rules as the in-process
 * WindowCounter. KEYS[1] a hash {c: count, b: blocked until}; ARGV now, limit, window, block.
 */
const hitScript = `
local now = tonumber(ARGV[1])
local blocked = tonumber(redis.call('HGET', KEYS[1], 'b') or '0')
if blocked > now then return blocked - now end
local count = redis.call('HINCRBY', KEYS[1], 'c', 1)
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
if count > tonumber(ARGV[2]) then
  redis.call('HSET', KEYS[1], 'c', 0, 'b', now + tonumber(ARGV[4]))
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  return tonumber(ARGV[4])
end
return 0
`;

/**
 * Rate-limit counters shared by every process through Redis. When Redis does not answer,
 * each process counts on its own (the limits then hold per process) and never fails a
 * request for it.
 */
export function redisCounters(
  redis: RedisHandle,
  clock: Clock,
  onError: (error: unknown) => void,
): CounterFactory {
  const local = localCounters(clock);
  const client = redis.client;
  client.defineCommand('bellhopHit', { numberOfKeys: 1, lua: hitScript });
  const hit = (key: string, ...args: number[]) =>
    (client as unknown as { bellhopHit(key: string, ...args: number[]): Promise<number> }).bellhopHit(
      key,
      ...args,
    );
  let failing = false;
  const fallback = <T>(error: unknown, value: () => Promise<T>): Promise<T> => {
    if (!failing) onError(error);
    failing = true;
    return value();
  };
  const ok = <T>(value: T): T => {
    failing = false;
    return value;
  };

  return (name, limit, windowMs, blockMs) => {
    const own = local(name, limit, windowMs, blockMs);
    const keyOf = (key: string) => redis.key('rl', name, key);
    return {
      async hit(key) {
        try {
          return ok(Number(await hit(keyOf(key), clock.now(), limit, windowMs, blockMs)));
        } catch (error) {
          return fallback(error, () => own.hit(key));
        }
      },
      async blockedFor(key) {
        try {
          const blocked = Number((await client.hget(keyOf(key), 'b')) ?? 0);
          return ok(Math.max(0, blocked - clock.now()));
        } catch (error) {
          return fallback(error, () => own.blockedFor(key));
        }
      },
      async reset(key) {
        try {
          ok(await client.del(keyOf(key)));
        } catch (error) {
          await fallback(error, () => own.reset(key));
        }
      },
    };
  };
}
