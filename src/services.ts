import type { Logger } from 'pino';
import { createAccountsService } from './accounts/accounts.service.js';
import { createPasswordHasher } from './accounts/passwords.js';
import { SessionCache } from './accounts/session-cache.js';
import { createAuthThrottle } from './accounts/throttle.js';
import { createApiKeys } from './admin/api-keys.js';
import { createApps } from './admin/apps.js';
import type { SecretBox } from './admin/secret-box.js';
import { type Clock, systemClock } from './clock.js';
import type { Config } from './config.js';
import type { DatabaseHandle } from './db/database.js';
import { createDeliveryService } from './delivery/delivery.service.js';
import { createAdapterPool } from './delivery/providers/adapters.js';
import type { ProviderCatalogue } from './delivery/providers/catalogue.js';
import { providerCatalogue } from './delivery/providers/index.js';
import {
  type AccessTokenStore,
  createMemoryAccessTokenStore,
} from './delivery/providers/shared/access-tokens.js';
import { createPostgresWakeup } from './delivery/queue/pg-wakeup.js';
import type { DeliveryQueue } from './delivery/queue/queue.js';
import { createSqlQueue } from './delivery/queue/sql-queue.js';
import { createDeliveryWorker } from './delivery/worker.js';
import { createMetrics } from './metrics.js';
import type { RedisHandle } from './redis/redis.js';
import { createScaleOut } from './redis/scale-out.js';
import { createRegistryService } from './registry/registry.service.js';

export interface ServiceDeps {
  database: DatabaseHandle;
  logger: Logger;
  box: SecretBox;
  clock?: Clock;
  catalogue?: ProviderCatalogue;
  queue?: DeliveryQueue;
  /** Where providers' OAuth access tokens are cached; default: this process's memory. */
  accessTokens?: AccessTokenStore;
  /** Scale-out mode: queue, rate limits, session revocations and provider tokens shared in Redis. */
  redis?: RedisHandle;
}

/** Every service of the process, wired once; the HTTP app and the delivery worker share them. */
export function createServices(config: Config, deps: ServiceDeps) {
  const clock = deps.clock ?? systemClock;
  const db = deps.database.db;
  const catalogue = deps.catalogue ?? providerCatalogue;
  const metrics = createMetrics();
  const shared =
    deps.redis === undefined
      ? undefined
      : createScaleOut(deps.redis, { config, db, clock, logger: deps.logger });
  const cache = new SessionCache(
    clock,
    config.sessions.cacheTtlSeconds * 1000,
    config.sessions.cacheMaxEntries,
  );
  shared?.shareSessions(cache);
  const accounts = createAccountsService({
    db,
    clock,
    hasher: createPasswordHasher(config.passwords),
    cache,
    throttle: createAuthThrottle(clock, config.rateLimits, shared?.counters),
    sessions: config.sessions,
  });
  const registry = createRegistryService({
    db,
    clock,
    maxPerChannel: config.registry.maxPerChannel,
    defaultBundleId: config.defaultBundleId,
  });
  const apiKeys = createApiKeys({ db, clock });
  const specs = Object.fromEntries(Object.entries(catalogue).map(([id, module]) => [id, module.settings]));
  const apps = createApps({ db, clock, box: deps.box, specs });
  const queue =
    deps.queue ??
    shared?.queue ??
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
              schema: config.database.schema,
              onError: (error) =>
                deps.logger.warn({ err: error }, 'delivery wake-up listener lost; reconnecting'),
            }),
          }
        : {}),
    });
  const adapters = createAdapterPool(catalogue, {
    clock,
    accessTokens: deps.accessTokens ?? shared?.accessTokens ?? createMemoryAccessTokenStore(),
    providerTokens: shared?.providerTokens,
  });
  const delivery = createDeliveryService({ db, clock, apps, catalogue, queue, settings: config.delivery });
  const worker = createDeliveryWorker({
    db,
    clock,
    apps,
    catalogue,
    adapters,
    settings: config.delivery,
    metrics,
    log: deps.logger,
  });

  return {
    config,
    clock,
    database: deps.database,
    logger: deps.logger,
    catalogue,
    metrics,
    accounts,
    registry,
    apiKeys,
    apps,
    queue,
    adapters,
    delivery,
    worker,
    /** Throws when Redis does not answer in scale-out mode: for /readyz. */
    async pingRedis(): Promise<void> {
      await shared?.ping();
    },
    /** Starts delivering: the queue hands due work to the worker; old records are pruned hourly. */
    startWorker(): () => Promise<void> {
      queue.start((ids) => worker.process(ids));
      const prune = () =>
        worker.prune().catch((error: unknown) => deps.logger.error({ err: error }, 'pruning failed'));
      void prune();
      const timer = setInterval(prune, 3600_000);
      timer.unref();
      return async () => {
        clearInterval(timer);
        await queue.stop();
        await adapters.closeAll();
      };
    },
  };
}

export type Services = ReturnType<typeof createServices>;
