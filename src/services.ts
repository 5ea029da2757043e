import type { Logger } from 'pino';
import { createAccountsService } from './accounts/accounts.service.js';
import { createPasswordHasher } from './accounts/passwords.js';
import { SessionCache } from './accounts/session-cache.js';
import { createAuthThrottle } from './accounts/throttle.js';
import { createApiKeys } from './admin/api-keys.js';
import { createApps } from './admin/apps.js';
import { type ChannelBus, createLocalChannelBus } from './channel/bus.js';
import { ChannelHub } from './channel/connections.js';
import { Command } from './channel/frames.js';
import { createOnlineBatcher } from './channel/presence.js';
import { createRedisChannelBus } from './channel/redis-bus.js';
import { createChannelTokens } from './channel/tokens.js';
import { type Clock, systemClock } from './clock.js';
import type { Config } from './config.js';
import type { SecretBox } from './crypto/secret-box.js';
import type { DatabaseHandle } from './db/database.js';
import { createDatabaseApnsJwtStore } from './delivery/apns-jwt-store.js';
import { createDeliveryService, type LocalWorker } from './delivery/delivery.service.js';
import { createInboxService } from './delivery/inbox.service.js';
import { createAdapterPool } from './delivery/providers/adapters.js';
import type { ProviderCatalogue } from './delivery/providers/catalogue.js';
import { CHANNEL_PROVIDER, createChannelAdapter } from './delivery/providers/channel/channel.adapter.js';
import { providerCatalogue } from './delivery/providers/index.js';
import {
  type AccessTokenStore,
  createMemoryAccessTokenStore,
} from './delivery/providers/shared/access-tokens.js';
import { createPostgresWakeup } from './delivery/queue/pg-wakeup.js';
import type { DeliveryQueue } from './delivery/queue/queue.js';
import { createSqlQueue } from './delivery/queue/sql-queue.js';
import { createDeliveryWorker, type DeliveryWorker } from './delivery/worker/worker.js';
import { createIdentityService, identityDeletionHook } from './identity/identity.service.js';
import { createIdentityVerifiers } from './identity/verifiers.js';
import { createMetrics } from './metrics.js';
import type { RedisHandle } from './redis/redis.js';
import { createRegistryService } from './registry/registry.service.js';
import type { ScaleOut } from './scale-out.js';

export interface ServiceDeps {
  database: DatabaseHandle;
  logger: Logger;
  box: SecretBox;
  clock?: Clock;
  catalogue?: ProviderCatalogue;
  queue?: DeliveryQueue;
  /** Where providers' OAuth access tokens are cached; default: this process's memory. */
  accessTokens?: AccessTokenStore;
  /** How the push channel reaches phones held by other processes; in-process by default. */
  channelBus?: ChannelBus;
  /** Scale-out mode: the Redis connection (the push channel's bus) ... */
  redis?: RedisHandle;
  /** ... and what processes share through it: queue, rate limits, revocations, OAuth access tokens. */
  scaleOut?: ScaleOut;
}

const commandNames: Record<number, string> = {
  [Command.heartbeat]: 'heartbeat',
  [Command.register]: 'register',
  [Command.token]: 'token',
  [Command.event]: 'event',
};

/** What every part of the wiring shares. */
interface Base {
  config: Config;
  deps: ServiceDeps;
  clock: Clock;
  db: DatabaseHandle['db'];
  metrics: ReturnType<typeof createMetrics>;
}

/** Accounts, sessions and third-party logins. */
function wireAccounts({ config, deps, clock, db }: Base) {
  const shared = deps.scaleOut;
  const cache = new SessionCache(
    clock,
    config.sessions.cacheTtlSeconds * 1000,
    config.sessions.cacheMaxEntries,
  );
  shared?.shareSessions(cache);
  const verifiers = createIdentityVerifiers(config.identity, { clock, log: deps.logger });
  const accounts = createAccountsService({
    db,
    clock,
    hasher: createPasswordHasher(config.passwords),
    cache,
    throttle: createAuthThrottle(clock, config.rateLimits, shared?.counters),
    sessions: config.sessions,
    recentLoginSeconds: config.accountDeleteRecentLoginSeconds,
    deletionHooks: [identityDeletionHook({ box: deps.box, log: deps.logger, apple: verifiers.apple })],
  });
  const identity = createIdentityService({
    db,
    clock,
    accounts,
    verifiers,
    box: deps.box,
    log: deps.logger,
  });
  return { accounts, identity, verifiers };
}

/** The push channel: its bus (local or Redis), tokens, the adapter the worker calls, the hub. */
function wireChannel({ config, deps, metrics }: Base) {
  const channelBus =
    deps.channelBus ??
    (deps.redis === undefined
      ? createLocalChannelBus()
      : createRedisChannelBus(deps.redis, (error) =>
          deps.logger.error({ err: error }, 'push channel bus error'),
        ));
  const channelTokens = createChannelTokens(deps.box.deriveKey('push channel tokens'));
  // Bellhop's own push channel needs no app settings: the worker calls it directly.
  const direct = {
    [CHANNEL_PROVIDER]: createChannelAdapter(channelBus, (channel, count) =>
      metrics.channelEvents.inc({ channel }, count),
    ),
  };
  const channel = new ChannelHub({
    bus: channelBus,
    tokens: channelTokens,
    heartbeatMs: config.channel.heartbeatMs,
    idleTimeoutMs: config.channel.idleTimeoutMs,
    registerTimeoutMs: config.channel.registerTimeoutMs,
    observer: {
      opened: (transport) => metrics.channelConnections.inc({ transport }),
      closed: (transport, reason) => {
        metrics.channelConnections.dec({ transport });
        metrics.channelClosed.inc({ transport, reason });
      },
      frameSent: (command) => metrics.channelFramesSent.inc({ command: commandNames[command] ?? 'other' }),
    },
  });
  return { channelBus, channelTokens, direct, channel };
}

/** The queue the delivery service fills and the worker drains: given, shared (Redis) or SQL. */
function deliveryQueue({ config, deps, clock, db }: Base): DeliveryQueue {
  return (
    deps.queue ??
    deps.scaleOut?.queue ??
    createSqlQueue({
      db,
      clock,
      batchSize: config.delivery.batchSize,
      pollMs: config.delivery.pollMs,
      leaseMs: config.delivery.leaseSeconds * 1000,
      concurrency: 4,
      onError: (error) => deps.logger.error({ err: error }, 'delivery queue error'),
      ...(config.database.dialect === 'postgres'
        ? {
            wakeup: createPostgresWakeup({
              connectionString: config.database.url,
              onError: (error) =>
                deps.logger.warn({ err: error }, 'delivery wake-up listener lost; reconnecting'),
            }),
          }
        : {}),
    })
  );
}

/** Apps, the send API, the queue, the provider adapters and the worker. */
function wireDelivery(base: Base, direct: ReturnType<typeof wireChannel>['direct']) {
  const { config, deps, clock, db, metrics } = base;
  const catalogue = deps.catalogue ?? providerCatalogue;
  const specs = Object.fromEntries(Object.entries(catalogue).map(([id, module]) => [id, module.settings]));
  const apps = createApps({ db, clock, box: deps.box, specs });
  const queue = deliveryQueue(base);
  const adapters = createAdapterPool(catalogue, {
    clock,
    accessTokens: deps.accessTokens ?? deps.scaleOut?.accessTokens ?? createMemoryAccessTokenStore(),
    providerTokens: createDatabaseApnsJwtStore({ db, box: deps.box, clock }),
  });
  const worker = createDeliveryWorker({
    db,
    clock,
    apps,
    catalogue,
    adapters,
    direct,
    settings: config.delivery,
    metrics,
    log: deps.logger,
  });
  const local = localWorkerOf(worker, deps.logger);
  const delivery = createDeliveryService({
    db,
    clock,
    apps,
    catalogue,
    queue,
    settings: config.delivery,
    direct: new Set(Object.keys(direct)),
    localWorker: local.handle,
  });
  const inbox = createInboxService({ apps, delivery });
  return { catalogue, apps, queue, adapters, worker, delivery, inbox, local };
}

/** Rings accepted here go straight to this process's worker, while it runs. */
function localWorkerOf(worker: DeliveryWorker, logger: Logger) {
  const state = { running: false };
  const handedOff = new Set<Promise<void>>();
  const handle: LocalWorker = {
    ready: () => state.running,
    deliver(ids) {
      const delivering = worker
        .process(ids)
        .catch((error: unknown) => logger.error({ err: error }, 'delivery batch failed'));
      handedOff.add(delivering);
      void delivering.finally(() => handedOff.delete(delivering));
    },
  };
  return { handle, state, handedOff };
}

/** Starts delivering: the queue hands due work to the worker; old records are pruned hourly. */
function startWorker(parts: ReturnType<typeof wireDelivery>, logger: Logger): () => Promise<void> {
  const { queue, worker, adapters, local } = parts;
  queue.start((ids) => worker.process(ids), { idle: () => worker.flushGathered() });
  local.state.running = true;
  const prune = () =>
    worker.prune().catch((error: unknown) => logger.error({ err: error }, 'pruning failed'));
  void prune();
  const timer = setInterval(prune, 3600_000);
  timer.unref();
  return async () => {
    clearInterval(timer);
    local.state.running = false;
    await queue.stop();
    await Promise.all(local.handedOff);
    await worker.drain();
    await adapters.closeAll();
  };
}

/** Every service of the process, wired once; the HTTP app and the delivery worker share them. */
export function createServices(config: Config, deps: ServiceDeps) {
  const base: Base = {
    config,
    deps,
    clock: deps.clock ?? systemClock,
    db: deps.database.db,
    metrics: createMetrics(),
  };
  const { accounts, identity, verifiers } = wireAccounts(base);
  const { channelBus, channelTokens, direct, channel } = wireChannel(base);
  const registry = createRegistryService({
    db: deps.database.relaxed,
    clock: base.clock,
    maxPerChannel: config.registry.maxPerChannel,
    refreshMs: config.registry.refreshSeconds * 1000,
    defaultBundleId: config.defaultBundleId,
    isChannelToken: channelTokens.verify,
  });
  const deliveryParts = wireDelivery(base, direct);
  const { delivery } = deliveryParts;
  // A phone that connects gets what was waiting for it.
  const online = createOnlineBatcher({
    resume: (tokens) => delivery.resume(CHANNEL_PROVIDER, tokens),
    onError: (error) => deps.logger.error({ err: error }, 'could not resume deliveries for connected phones'),
  });
  channelBus.onOnline((token) => online.add(token));

  return {
    config,
    clock: base.clock,
    database: deps.database,
    logger: deps.logger,
    catalogue: deliveryParts.catalogue,
    metrics: base.metrics,
    accounts,
    identity,
    /** Closes the connections to the login providers. */
    closeIdentity: () => verifiers.close(),
    registry,
    apiKeys: createApiKeys({ db: base.db, clock: base.clock }),
    apps: deliveryParts.apps,
    queue: deliveryParts.queue,
    adapters: deliveryParts.adapters,
    delivery,
    inbox: deliveryParts.inbox,
    worker: deliveryParts.worker,
    /** The push channel's connections (TLS socket and WebSocket) and its bus. */
    channel,
    channelBus,
    /** Stops the push channel's background work (after its servers closed). */
    async stopChannel(): Promise<void> {
      channel.closeAll();
      online.stop();
      await channelBus.close();
    },
    /** Throws when Redis does not answer in scale-out mode: for /readyz. */
    async pingRedis(): Promise<void> {
      await deps.scaleOut?.ping();
    },
    /** Starts delivering: the queue hands due work to the worker; old records are pruned hourly. */
    startWorker: (): (() => Promise<void>) => startWorker(deliveryParts, deps.logger),
  };
}

export type Services = ReturnType<typeof createServices>;
