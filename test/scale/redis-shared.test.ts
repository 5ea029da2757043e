import { afterAll, describe, expect, inject, it } from 'vitest';
import { redisCounters } from '../../src/accounts/redis-counters.js';
import { shareSessionRevocations } from '../../src/accounts/redis-session-revocations.js';
import { SessionCache } from '../../src/accounts/session-cache.js';
import { createRedis, type RedisHandle } from '../../src/redis/redis.js';
import { ManualClock } from '../helpers/clock.js';
import { startThrowawayRedis, testRedisPrefix } from '../helpers/redis.js';
import { eventually } from '../helpers/wait.js';

const redisUrl = inject('redisUrl');
const MINUTE = 60_000;

/** N "processes": each its own connection (and memory), one Redis and one prefix. */
function processes(count: number, prefix: string): RedisHandle[] {
  return Array.from({ length: count }, () => createRedis(redisUrl, prefix, () => {}));
}

describe.skipIf(redisUrl === '')('state shared through Redis', () => {
  const opened: RedisHandle[] = [];
  const open = (count: number) => {
    const handles = processes(count, testRedisPrefix('shared'));
    opened.push(...handles);
    return handles;
  };
  afterAll(async () => {
    await Promise.all(opened.map((handle) => handle.close()));
  });

  it('counts rate limits across processes, and per process when Redis is gone', async () => {
    const clock = new ManualClock();
    const [a, b] = open(2);
    if (a === undefined || b === undefined) throw new Error('no handles');
    await Promise.all([a.connected(5_000), b.connected(5_000)]);
    const errors: unknown[] = [];
    const onA = redisCounters(a, clock, (error) => errors.push(error))('ip', 3, 60_000, 60_000);
    const onB = redisCounters(b, clock, (error) => errors.push(error))('ip', 3, 60_000, 60_000);
    expect(await onA.hit('10.0.0.1')).toBe(0);
    expect(await onB.hit('10.0.0.1')).toBe(0);
    expect(await onA.hit('10.0.0.1')).toBe(0);
    expect(await onB.hit('10.0.0.1')).toBe(60_000);
    expect(await onA.blockedFor('10.0.0.1')).toBe(60_000);

    const throwaway = await startThrowawayRedis();
    const lost = createRedis(throwaway.url, testRedisPrefix('lost'), () => {});
    opened.push(lost);
    await lost.connected(5_000);
    const local = redisCounters(lost, clock, (error) => errors.push(error))('ip', 1, 60_000, 60_000);
    await throwaway.kill();
    expect(await local.hit('10.0.0.2')).toBe(0);
    expect(await local.hit('10.0.0.2')).toBe(60_000);
    expect(errors.length).toBeGreaterThan(0);
  });

  it('drops a session revoked in one process from every other process cache', async () => {
    const clock = new ManualClock();
    const [a, b] = open(2);
    if (a === undefined || b === undefined) throw new Error('no handles');
    const cacheA = new SessionCache(clock, 60_000, 100);
    const cacheB = new SessionCache(clock, 60_000, 100);
    shareSessionRevocations(cacheA, a, () => {});
    shareSessionRevocations(cacheB, b, () => {});
    const session = { userId: 1, sessionId: 's1', validUntil: clock.now() + MINUTE };
    await eventually(async () => {
      cacheB.set('digest', session);
      return cacheB.get('digest');
    }, 'B trusting its cache');
    cacheA.forgetSessions(['s1']);
    await eventually(async () => (cacheB.get('digest') === undefined ? true : undefined), 'B dropping it');
  });
});
