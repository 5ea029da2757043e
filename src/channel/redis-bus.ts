import { randomUUID } from 'node:crypto';
import type { RedisHandle } from '../redis/redis.js';
import type { ChannelBus, ChannelEndpoint } from './bus.js';

/** What travels on a token's Redis channel. */
type TokenMessage = { type: 'event'; event: string } | { type: 'replaced'; by: string };

/**
 * The push channel across processes (`REDIS_URL`): each process subscribes to the Redis
 * channel of every token it holds a connection for, so an event published for a token reaches
 * whichever process holds the phone. Presence is the subscription itself (`PUBSUB NUMSUB`): a
 * process that dies takes its subscriptions with it, so nothing stale is left behind. A phone
 * that reconnects to another process makes the first one close its old connection.
 *
 * Events for phones held here go straight to them, without a round trip to Redis.
 */
export function createRedisChannelBus(redis: RedisHandle, onError: (error: unknown) => void): ChannelBus {
  const held = new Map<string, ChannelEndpoint>();
  const processId = randomUUID();
  const prefix = redis.key('channel', 'token', '');
  const onlineChannel = redis.key('channel', 'online');
  const listeners = new Set<(token: string) => void>();
  const subscriber = redis.connection();

  const subscribed = (async () => {
    await subscriber.subscribe(onlineChannel);
  })().catch(onError);

  // After a reconnection the subscriber has lost every subscription: take them again.
  subscriber.on('ready', () => {
    const channels = [onlineChannel, ...[...held.keys()].map((token) => prefix + token)];
    subscriber.subscribe(...channels).catch(onError);
  });

  subscriber.on('message', (channel: string, text: string) => {
    if (channel === onlineChannel) {
      for (const listener of listeners) listener(text);
      return;
    }
    if (!channel.startsWith(prefix)) return;
    const token = channel.slice(prefix.length);
    const endpoint = held.get(token);
    if (endpoint === undefined) return;
    try {
      const message = JSON.parse(text) as TokenMessage;
      if (message.type === 'event') endpoint.sendEvent(message.event);
      else if (message.by !== processId) endpoint.replaced();
    } catch (error) {
      onError(error);
    }
  });

  const publish = (channel: string, text: string) => redis.client.publish(channel, text);

  return {
    attach(token, endpoint) {
      const previous = held.get(token);
      held.set(token, endpoint);
      if (previous !== undefined && previous !== endpoint) previous.replaced();
      const first = previous === undefined;
      const announce = async () => {
        await subscribed;
        // Another process holding an older connection of this phone closes it.
        await publish(
          prefix + token,
          JSON.stringify({ type: 'replaced', by: processId } satisfies TokenMessage),
        );
        if (first) await subscriber.subscribe(prefix + token);
        await publish(onlineChannel, token);
      };
      announce().catch(onError);
      return () => {
        if (held.get(token) !== endpoint) return;
        held.delete(token);
        subscriber.unsubscribe(prefix + token).catch(onError);
      };
    },

    async deliver(events) {
      return Promise.all(
        events.map(async ({ token, event }) => {
          const endpoint = held.get(token);
          if (endpoint !== undefined) return endpoint.sendEvent(event);
          try {
            const receivers = await publish(prefix + token, JSON.stringify({ type: 'event', event }));
            return receivers > 0;
          } catch (error) {
            onError(error);
            return false;
          }
        }),
      );
    },

    async isOnline(token) {
      if (held.has(token)) return true;
      try {
        const answer = (await redis.client.pubsub('NUMSUB', prefix + token)) as Array<string | number>;
        return Number(answer[1] ?? 0) > 0;
      } catch (error) {
        onError(error);
        return false;
      }
    },

    onOnline(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    async close() {
      held.clear();
      listeners.clear();
      // A subscriber has nothing to finish: closed at once, even while Redis is unreachable.
      subscriber.disconnect();
    },
  };
}
