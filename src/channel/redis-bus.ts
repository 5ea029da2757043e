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
  return new RedisChannelBus(redis, onError);
}

class RedisChannelBus implements ChannelBus {
  private readonly held = new Map<string, ChannelEndpoint>();
  private readonly processId = randomUUID();
  private readonly prefix: string;
  private readonly onlineChannel: string;
  private readonly listeners = new Set<(token: string) => void>();
  private readonly subscriber: ReturnType<RedisHandle['connection']>;
  private readonly subscribed: Promise<void>;

  constructor(
    private readonly redis: RedisHandle,
    private readonly onError: (error: unknown) => void,
  ) {
    this.prefix = redis.key('channel', 'token', '');
    this.onlineChannel = redis.key('channel', 'online');
    this.subscriber = redis.connection();
    this.subscribed = this.subscriber.subscribe(this.onlineChannel).then(() => undefined, onError);
    // After a reconnection the subscriber has lost every subscription: take them again.
    this.subscriber.on('ready', () => {
      const channels = [this.onlineChannel, ...[...this.held.keys()].map((token) => this.prefix + token)];
      this.subscriber.subscribe(...channels).catch(onError);
    });
    this.subscriber.on('message', (channel: string, text: string) => this.receive(channel, text));
  }

  private receive(channel: string, text: string): void {
    if (channel === this.onlineChannel) {
      for (const listener of this.listeners) listener(text);
      return;
    }
    if (!channel.startsWith(this.prefix)) return;
    const endpoint = this.held.get(channel.slice(this.prefix.length));
    if (endpoint === undefined) return;
    try {
      const message = JSON.parse(text) as TokenMessage;
      if (message.type === 'event') endpoint.sendEvent(message.event);
      else if (message.by !== this.processId) endpoint.replaced();
    } catch (error) {
      this.onError(error);
    }
  }

  private publish(channel: string, text: string): Promise<number> {
    return this.redis.client.publish(channel, text);
  }

  attach(token: string, endpoint: ChannelEndpoint): () => void {
    const previous = this.held.get(token);
    this.held.set(token, endpoint);
    if (previous !== undefined && previous !== endpoint) previous.replaced();
    this.announce(token, previous === undefined).catch(this.onError);
    return () => {
      if (this.held.get(token) !== endpoint) return;
      this.held.delete(token);
      this.subscriber.unsubscribe(this.prefix + token).catch(this.onError);
    };
  }

  /** Tells other processes the phone is here now (they close an older connection), and that it is online. */
  private async announce(token: string, first: boolean): Promise<void> {
    await this.subscribed;
    const replaced: TokenMessage = { type: 'replaced', by: this.processId };
    await this.publish(this.prefix + token, JSON.stringify(replaced));
    if (first) await this.subscriber.subscribe(this.prefix + token);
    await this.publish(this.onlineChannel, token);
  }

  deliver(events: ReadonlyArray<{ token: string; event: string }>): Promise<boolean[]> {
    return Promise.all(
      events.map(async ({ token, event }) => {
        const endpoint = this.held.get(token);
        if (endpoint !== undefined) return endpoint.sendEvent(event);
        try {
          const receivers = await this.publish(this.prefix + token, JSON.stringify({ type: 'event', event }));
          return receivers > 0;
        } catch (error) {
          this.onError(error);
          return false;
        }
      }),
    );
  }

  async isOnline(token: string): Promise<boolean> {
    if (this.held.has(token)) return true;
    try {
      const answer = (await this.redis.client.pubsub('NUMSUB', this.prefix + token)) as Array<
        string | number
      >;
      return Number(answer[1] ?? 0) > 0;
    } catch (error) {
      this.onError(error);
      return false;
    }
  }

  onOnline(listener: (token: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.held.clear();
    this.listeners.clear();
    // A subscriber has nothing to finish: closed at once, even while Redis is unreachable.
    this.subscriber.disconnect();
  }
}
