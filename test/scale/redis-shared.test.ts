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
    await cacheA.forgetSessions(['s1']);
    await eventually(async () => (cacheB.get('digest') === undefined ? true : undefined), 'B dropping it');
  });

  it('answers a revocation only once every other process has dropped it, 30 times out of 30', async () => {
    const clock = new ManualClock();
    const handles = open(3);
    const caches = handles.map(() => new SessionCache(clock, 60_000, 100));
    handles.forEach((handle, index) => {
      const cache = caches[index];
      if (cache !== undefined) shareSessionRevocations(cache, handle, () => {});
    });
    const [revoker, ...others] = caches;
    if (revoker === undefined) throw new Error('no caches');
    const still: string[] = [];
    for (let attempt = 0; attempt < 30; attempt += 1) {
      const session = { userId: 1, sessionId: `s${attempt}`, validUntil: clock.now() + MINUTE };
      await eventually(async () => {
        for (const cache of others) cache.set(`digest${attempt}`, session);
        return others.every((cache) => cache.get(`digest${attempt}`) !== undefined) ? true : undefined;
      }, 'every process trusting its cache');
      await revoker.forgetSessions([session.sessionId]);
      others.forEach((cache, index) => {
        if (cache.get(`digest${attempt}`) !== undefined) still.push(`${session.sessionId} on ${index}`);
      });
    }
    expect(still).toEqual([]);
  });

  it('waits a bounded time for a process that does not acknowledge, and reports it', async () => {
    const clock = new ManualClock();
    const [a] = open(1);
    if (a === undefined) throw new Error('no handles');
    const cache = new SessionCache(clock, 60_000, 100);
    const errors: unknown[] = [];
    shareSessionRevocations(cache, a, (error) => errors.push(error), { ackTimeoutMs: 200 });
    // A process that hears revocations but never answers (an older version, or a stalled one).
    const silent = a.connection();
    await silent.subscribe(a.key('session-revocations'));
    await eventually(async () => {
      cache.set('digest', { userId: 1, sessionId: 's1', validUntil: clock.now() + MINUTE });
      return cache.get('digest');
    }, 'the cache trusted');
    await cache.forgetSessions(['s1']);
    expect(String(errors[0])).toMatch(/1 of 2 processes/);
    await silent.quit();
  });
});
