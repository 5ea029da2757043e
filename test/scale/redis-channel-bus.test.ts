import { afterAll, describe, expect, inject, it } from 'vitest';
import type { ChannelEndpoint } from '../../src/channel/bus.js';
import { createRedisChannelBus } from '../../src/channel/redis-bus.js';
import { createRedis, type RedisHandle } from '../../src/redis/redis.js';
import { testRedisPrefix } from '../helpers/redis.js';
import { eventually } from '../helpers/wait.js';

const redisUrl = inject('redisUrl');

/** A phone's connection, as the channel server would attach it. */
function phone() {
  const events: string[] = [];
  let replaced = false;
  const endpoint: ChannelEndpoint = {
    sendEvent: (event) => {
      events.push(event);
      return true;
    },
    replaced: () => {
      replaced = true;
    },
  };
  return { endpoint, events, wasReplaced: () => replaced };
}

describe.skipIf(redisUrl === '')('the push channel across processes (Redis bus)', () => {
  const handles: RedisHandle[] = [];
  const buses: Array<ReturnType<typeof createRedisChannelBus>> = [];
  const errors: unknown[] = [];
  /** Two "processes": each its own Redis connections and bus, one prefix. */
  async function twoProcesses() {
    const prefix = testRedisPrefix('channel');
    const pair = [0, 1].map(() => {
      const redis = createRedis(redisUrl, prefix, (error) => errors.push(error));
      handles.push(redis);
      const bus = createRedisChannelBus(redis, (error) => errors.push(error));
      buses.push(bus);
      return bus;
    });
    await Promise.all(handles.map((handle) => handle.connected(5_000)));
    const [a, b] = pair;
    if (a === undefined || b === undefined) throw new Error('no buses');
    return { a, b };
  }
  afterAll(async () => {
    await Promise.all(buses.map((bus) => bus.close()));
    await Promise.all(handles.map((handle) => handle.close()));
  });

  it('delivers to a phone held by another process, and knows where phones are', async () => {
    const { a, b } = await twoProcesses();
    const heardOnB: string[] = [];
    b.onOnline((token) => heardOnB.push(token));
    const held = phone();
    const detach = a.attach('bhc1_phone', held.endpoint);
    await eventually(async () => ((await b.isOnline('bhc1_phone')) ? true : undefined), 'presence on B');
    await eventually(async () => (heardOnB.includes('bhc1_phone') ? true : undefined), 'online heard on B');

    expect(
      await b.deliver([
        { token: 'bhc1_phone', event: '{"id":"1"}' },
        { token: 'bhc1_gone', event: '{}' },
      ]),
    ).toEqual([true, false]);
    await eventually(async () => (held.events.length === 1 ? true : undefined), 'the event at A');
    expect(held.events).toEqual(['{"id":"1"}']);
    // Held here: written directly.
    expect(await a.deliver([{ token: 'bhc1_phone', event: '{"id":"2"}' }])).toEqual([true]);
    expect(held.events).toEqual(['{"id":"1"}', '{"id":"2"}']);

    detach();
    await eventually(async () => ((await b.isOnline('bhc1_phone')) ? undefined : true), 'gone from B');
    expect(await b.deliver([{ token: 'bhc1_phone', event: '{}' }])).toEqual([false]);
    expect(errors).toEqual([]);
  });

  it('closes the old connection when the phone reconnects to another process', async () => {
    const { a, b } = await twoProcesses();
    const first = phone();
    a.attach('bhc1_moving', first.endpoint);
    await eventually(async () => ((await b.isOnline('bhc1_moving')) ? true : undefined), 'presence');
    const second = phone();
    b.attach('bhc1_moving', second.endpoint);
    await eventually(async () => (first.wasReplaced() ? true : undefined), 'A closes the old connection');
    expect(second.wasReplaced()).toBe(false);
  });
});
