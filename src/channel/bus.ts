/**
 * The seam between the delivery worker and the phones connected to the push channel.
 *
 * The channel server attaches every registered connection under its push token; the
 * channel adapter (the worker's side) delivers events by token, wherever the connection is
 * held; listeners hear when a token comes online, so that deliveries waiting for that phone
 * go out at once.
 *
 * `createLocalChannelBus` keeps all of it in this process: enough when one process holds the
 * sockets and runs the worker (ROLE=all, the embedded default). With several processes
 * (ROLE=api + ROLE=worker, or several `all` behind a load balancer) `createRedisChannelBus`
 * (redis-bus.ts, `REDIS_URL`) shares it: pub/sub by token, presence by subscription.
 */
export interface ChannelBus {
  /**
   * A connection of this process now answers for `token`. A phone has one live connection:
   * an earlier one under the same token is replaced (closed). Returns the detach function.
   */
  attach(token: string, endpoint: ChannelEndpoint): () => void;
  /** Hands each event to its token's connection; per item, whether a connection took it. */
  deliver(events: ReadonlyArray<{ token: string; event: string }>): Promise<boolean[]>;
  /** Whether a connection answers for `token` somewhere. */
  isOnline(token: string): Promise<boolean>;
  /** Calls `listener` whenever a token is attached (a phone connected or reconnected). */
  onOnline(listener: (token: string) => void): () => void;
  /** Releases the bus's own resources (a Redis bus: its connections). */
  close(): Promise<void>;
}

/** One connected phone, as the bus sees it. */
export interface ChannelEndpoint {
  /** Writes an event frame; false when the connection cannot take it any more. */
  sendEvent(event: string): boolean;
  /** Another connection of the same phone took over: close this one. */
  replaced(): void;
}

/** The bus of a single process: a map from token to connection. */
export function createLocalChannelBus(): ChannelBus {
  const endpoints = new Map<string, ChannelEndpoint>();
  const listeners = new Set<(token: string) => void>();

  return {
    attach(token, endpoint) {
      const previous = endpoints.get(token);
      endpoints.set(token, endpoint);
      if (previous !== undefined && previous !== endpoint) previous.replaced();
      for (const listener of listeners) listener(token);
      return () => {
        if (endpoints.get(token) === endpoint) endpoints.delete(token);
      };
    },
    async deliver(events) {
      return events.map(({ token, event }) => endpoints.get(token)?.sendEvent(event) ?? false);
    },
    async isOnline(token) {
      return endpoints.has(token);
    },
    onOnline(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      endpoints.clear();
      listeners.clear();
    },
  };
}
