import type { FastifyBaseLogger } from 'fastify';
import type { Apps } from '../../admin/apps.js';
import type { Clock } from '../../clock.js';
import type { Config } from '../../config.js';
import type { Executor } from '../../db/schema.js';
import type { Metrics } from '../../metrics.js';
import type { PushAdapter } from '../providers/adapter.js';
import type { AdapterPool } from '../providers/adapters.js';
import type { ProviderCatalogue } from '../providers/catalogue.js';
import type { ClaimedDelivery } from './worker.repository.js';

export interface DeliveryWorkerDeps {
  db: Executor;
  clock: Clock;
  apps: Apps;
  catalogue: ProviderCatalogue;
  adapters: AdapterPool;
  /**
   * Providers Bellhop runs itself (the push channel), by id: they need no app settings and
   * deliver for any bundleid, in inbox mode too.
   */
  direct?: Readonly<Record<string, PushAdapter>>;
  settings: Config['delivery'];
  metrics: Metrics;
  log: FastifyBaseLogger;
}

/** What the worker's steps share. */
export interface WorkerContext extends DeliveryWorkerDeps {
  /** Delivers deliveries of one app and provider at once (rerouted ones). */
  deliverNow(rows: ClaimedDelivery[]): Promise<void>;
}
