import { randomUUID } from 'node:crypto';
import type { Apps } from '../admin/apps.js';
import { isPostgres } from '../db/dialect.js';
import type { DeliveriesTable, DeliveryStatus, Executor, NotificationsTable } from '../db/schema.js';
import {
  insertDeliveries,
  insertNotification,
  insertNotificationWithDeliveries,
  setNotificationTargets,
} from './delivery.repository.js';
import type { ProviderCatalogue } from './providers/catalogue.js';
import type { DeliveryQueue } from './queue/queue.js';

/** One phone a notification goes to, as its registration routes it. */
export interface Target {
  user_id: number;
  seq: number | null;
  provider: string;
  token: string | null;
  environment: string | null;
  bundleid: string;
  language: string;
}

/** Targets in pages, read with the executor given (inside the storing transaction). */
export type TargetPages = (trx: Executor) => AsyncIterable<ReadonlyArray<Target>>;

/**
 * A worker in this process that takes deliveries stored as already claimed (status `sending`,
 * a short lease), without a claim round trip: the path of a ring, where every millisecond
 * counts. Should the process die before sending, the lease runs out and any worker claims them.
 */
export interface LocalWorker {
  /** Whether it runs and takes work now. */
  ready(): boolean;
  deliver(ids: string[]): void;
}

export interface NotificationStoreDeps {
  db: Executor;
  apps: Apps;
  catalogue: ProviderCatalogue;
  queue: DeliveryQueue;
  /** Providers that need no app settings (the push channel); see DeliveryWorker. */
  direct?: ReadonlySet<string> | undefined;
  /** This process's worker, when it runs one: rings go straight to it. */
  localWorker?: LocalWorker | undefined;
}

/** Deliveries a send may store in one statement, without a transaction (PostgreSQL). */
const ONE_STATEMENT_MAX = 200;

/** How long a ring handed straight to this process's worker is held before others may take it. */
const HAND_OFF_LEASE_MS = 10_000;

type Verdict = { status: DeliveryStatus; reason: string } | undefined;

/**
 * Stores a notification and one delivery per target, then hands the sendable ones to the
 * queue. Targets come in pages (read inside the transaction), so that a fan-out to 100,000
 * phones never holds more than a page of rows and delivery objects at once. `single`: all the
 * targets, when they were read beforehand as one page.
 */
export async function storeNotification(
  deps: NotificationStoreDeps,
  notification: NotificationsTable,
  pages: TargetPages,
  single?: ReadonlyArray<Target>,
): Promise<{ id: string; targets: number }> {
  const { db } = deps;
  const now = notification.created_at;
  const priority = notification.channel === 'ring' ? 0 : 1;
  const handOff = notification.channel === 'ring' && deps.localWorker?.ready() === true;
  const maker = new DeliveryMaker(deps, notification, handOff);
  let count = 0;
  if (single !== undefined && single.length <= ONE_STATEMENT_MAX && isPostgres(db)) {
    const deliveries = await maker.make(single, db);
    await insertNotificationWithDeliveries(db, { ...notification, targets: deliveries.length }, deliveries);
    count = deliveries.length;
  } else {
    await db.transaction().execute(async (trx) => {
      await insertNotification(trx, notification);
      for await (const targets of pages(trx)) {
        const deliveries = await maker.make(targets, trx);
        await insertDeliveries(trx, deliveries);
        count += deliveries.length;
      }
      if (count !== notification.targets) await setNotificationTargets(trx, notification.id, count);
    });
  }
  const jobIds = maker.sendable;
  if (jobIds.length > 0 && handOff) deps.localWorker?.deliver(jobIds);
  else if (jobIds.length > 0) {
    await deps.queue.enqueue(jobIds.map((id) => ({ id, dueAt: now, priority })));
  }
  return { id: notification.id, targets: count };
}

/** Turns targets into deliveries of one notification, judging each app and provider once. */
class DeliveryMaker {
  /** Ids of the deliveries made that can be sent. */
  readonly sendable: string[] = [];
  private readonly verdicts = new Map<string, Verdict>();

  constructor(
    private readonly deps: NotificationStoreDeps,
    private readonly notification: NotificationsTable,
    private readonly handOff: boolean,
  ) {}

  async make(targets: ReadonlyArray<Target>, executor: Executor): Promise<DeliveriesTable[]> {
    const { notification, handOff } = this;
    const now = notification.created_at;
    const deliveries: DeliveriesTable[] = [];
    for (const target of targets) {
      const key = `${target.provider}\u0000${target.bundleid}`;
      if (!this.verdicts.has(key))
        this.verdicts.set(key, await unsendable(this.deps, target.provider, target.bundleid, executor));
      const verdict = this.verdicts.get(key);
      const id = randomUUID();
      if (verdict === undefined) this.sendable.push(id);
      deliveries.push({
        id,
        notification_id: notification.id,
        user_id: target.user_id,
        registration_seq: target.seq,
        provider: target.provider,
        token: target.token ?? '',
        environment: target.environment,
        bundleid: target.bundleid,
        language: target.language,
        status: verdict?.status ?? (handOff ? 'sending' : 'queued'),
        reason: verdict?.reason ?? null,
        attempts: 0,
        priority: notification.channel === 'ring' ? 0 : 1,
        due_at: verdict === undefined ? (handOff ? now + HAND_OFF_LEASE_MS : now) : null,
        provider_message_id: null,
        created_at: now,
        updated_at: now,
        sent_at: null,
      });
    }
    return deliveries;
  }
}

/** Why a registration cannot be sent to, before any attempt; undefined when it can. */
async function unsendable(
  deps: NotificationStoreDeps,
  provider: string,
  bundleid: string,
  executor: Executor,
): Promise<Verdict> {
  if (provider === 'none') return { status: 'no_route', reason: 'no_route' };
  if (deps.direct?.has(provider) === true) return undefined;
  if (deps.catalogue[provider] === undefined) return { status: 'failed', reason: 'provider_not_supported' };
  const app = await deps.apps.load(bundleid, executor);
  if (app === undefined) return { status: 'failed', reason: 'app_not_configured' };
  if (app.mode === 'live' && app.providers[provider] === undefined)
    return { status: 'failed', reason: 'app_not_configured' };
  return undefined;
}
