import { randomUUID } from 'node:crypto';
import { PostgresAdapter } from 'kysely';
import type { Apps } from '../admin/apps.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { uniqueViolationTarget } from '../db/errors.js';
import type { DeliveriesTable, DeliveryStatus, Executor, NotificationsTable } from '../db/schema.js';
import { AppError } from '../errors.js';
import type { Channel } from '../registry/registry.repository.js';
import {
  countDeliveriesByStatus,
  findNotification,
  findNotificationByIdempotencyKey,
  findTargets,
  insertDeliveries,
  insertNotification,
  insertNotificationWithDeliveries,
  listDeliveries,
  releaseIdempotencyKey,
} from './delivery.repository.js';
import type { LocalizedText } from './localization.js';
import type { ProviderCatalogue } from './providers/catalogue.js';
import type { DeliveryQueue } from './queue/queue.js';

export interface SendInput {
  channel: Channel;
  users: number[];
  bundleid?: string | undefined;
  title?: string | undefined;
  body?: string | undefined;
  localized?: Record<string, LocalizedText> | undefined;
  data?: Record<string, string> | undefined;
  ttl?: number | undefined;
  collapse_id?: string | undefined;
  sound?: string | undefined;
  badge?: number | undefined;
  idempotency_key?: string | undefined;
}

/** What a notification carries besides its routing: stored as JSON with it. */
export interface NotificationContent {
  title?: string | undefined;
  body?: string | undefined;
  localized?: Record<string, LocalizedText> | undefined;
  data: Record<string, string>;
  sound?: string | undefined;
  badge?: number | undefined;
}

interface Target {
  user_id: number;
  seq: number | null;
  provider: string;
  token: string | null;
  environment: string | null;
  bundleid: string;
  language: string;
}

const terminal: ReadonlySet<DeliveryStatus> = new Set([
  'sent',
  'failed',
  'invalid_token',
  'expired',
  'no_route',
]);
const idempotencyWindowMs = 24 * 3600 * 1000;
/** Users whose registrations are read and stored at once. */
const TARGET_PAGE = 1000;

export function shortenToken(token: string): string {
  return token.length <= 12 ? token : `${token.slice(0, 6)}…${token.slice(-4)}`;
}

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

/** Deliveries a send may store in one statement, without a transaction (PostgreSQL). */
const ONE_STATEMENT_MAX = 200;

/** How long a ring handed straight to this process's worker is held before others may take it. */
const HAND_OFF_LEASE_MS = 10_000;

export function createDeliveryService(deps: {
  db: Executor;
  clock: Clock;
  apps: Apps;
  catalogue: ProviderCatalogue;
  queue: DeliveryQueue;
  settings: Config['delivery'];
  /** Providers that need no app settings (the push channel); see DeliveryWorker. */
  direct?: ReadonlySet<string>;
  /** This process's worker, when it runs one: rings go straight to it. */
  localWorker?: LocalWorker;
}) {
  const { db, clock, apps, queue } = deps;
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;

  /** Why a registration cannot be sent to, before any attempt; undefined when it can. */
  async function unsendable(
    provider: string,
    bundleid: string,
    executor: Executor,
  ): Promise<{ status: DeliveryStatus; reason: string } | undefined> {
    if (provider === 'none') return { status: 'no_route', reason: 'no_route' };
    if (deps.direct?.has(provider) === true) return undefined;
    if (deps.catalogue[provider] === undefined) return { status: 'failed', reason: 'provider_not_supported' };
    const app = await apps.load(bundleid, executor);
    if (app === undefined) return { status: 'failed', reason: 'app_not_configured' };
    if (app.mode === 'live' && app.providers[provider] === undefined)
      return { status: 'failed', reason: 'app_not_configured' };
    return undefined;
  }

  /**
   * Stores a notification and one delivery per target, then hands the sendable ones to the
   * queue. Targets come in pages (read inside the transaction), so that a fan-out to 100,000
   * phones never holds more than a page of rows and delivery objects at once.
   */
  async function store(
    notification: NotificationsTable,
    pages: (trx: Executor) => AsyncIterable<ReadonlyArray<Target>>,
    single?: ReadonlyArray<Target>,
  ): Promise<{ id: string; targets: number }> {
    const now = notification.created_at;
    const priority = notification.channel === 'ring' ? 0 : 1;
    const handOff = notification.channel === 'ring' && deps.localWorker?.ready() === true;
    const verdicts = new Map<string, Awaited<ReturnType<typeof unsendable>>>();
    const jobIds: string[] = [];
    let count = 0;

    async function toDeliveries(
      targets: ReadonlyArray<Target>,
      executor: Executor,
    ): Promise<DeliveriesTable[]> {
      const deliveries: DeliveriesTable[] = [];
      for (const target of targets) {
        const key = `${target.provider}\u0000${target.bundleid}`;
        if (!verdicts.has(key))
          verdicts.set(key, await unsendable(target.provider, target.bundleid, executor));
        const verdict = verdicts.get(key);
        const id = randomUUID();
        if (verdict === undefined) jobIds.push(id);
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
          priority,
          due_at: verdict === undefined ? (handOff ? now + HAND_OFF_LEASE_MS : now) : null,
          provider_message_id: null,
          created_at: now,
          updated_at: now,
          sent_at: null,
        });
      }
      return deliveries;
    }

    if (single !== undefined && single.length <= ONE_STATEMENT_MAX && postgres) {
      const deliveries = await toDeliveries(single, db);
      await insertNotificationWithDeliveries(db, { ...notification, targets: deliveries.length }, deliveries);
      count = deliveries.length;
    } else {
      await db.transaction().execute(async (trx) => {
        await insertNotification(trx, notification);
        for await (const targets of pages(trx)) {
          const deliveries = await toDeliveries(targets, trx);
          await insertDeliveries(trx, deliveries);
          count += deliveries.length;
        }
        if (count !== notification.targets) {
          await trx
            .updateTable('notifications')
            .set({ targets: count })
            .where('id', '=', notification.id)
            .execute();
        }
      });
    }
    if (jobIds.length > 0 && handOff) deps.localWorker?.deliver(jobIds);
    else if (jobIds.length > 0) {
      await queue.enqueue(jobIds.map((id) => ({ id, dueAt: now, priority })));
    }
    return { id: notification.id, targets: count };
  }

  async function summary(id: string) {
    const notification = await findNotification(db, id);
    if (notification === undefined) throw new AppError('NOT_FOUND');
    const counts = await countDeliveriesByStatus(db, id);
    const pending = Object.entries(counts).some(
      ([status, count]) => count > 0 && !terminal.has(status as DeliveryStatus),
    );
    const state: 'cancelled' | 'pending' | 'done' =
      notification.cancelled_at !== null ? 'cancelled' : pending ? 'pending' : 'done';
    return { notification, counts, state };
  }

  return {
    async send(
      input: SendInput,
      apiKeyId: string | null,
    ): Promise<{ id: string; targets: number; duplicate: boolean }> {
      const now = clock.now();
      if (input.idempotency_key !== undefined) {
        const earlier = await findNotificationByIdempotencyKey(db, input.idempotency_key);
        if (earlier !== undefined && earlier.created_at > now - idempotencyWindowMs) {
          return { id: earlier.id, targets: earlier.targets, duplicate: true };
        }
        if (earlier !== undefined) await releaseIdempotencyKey(db, earlier.id);
      }
      const ttl =
        input.ttl ??
        (input.channel === 'ring' ? deps.settings.ringTtlSeconds : deps.settings.messageTtlSeconds);
      const content: NotificationContent = {
        title: input.title,
        body: input.body,
        localized: input.localized,
        data: input.data ?? {},
        sound: input.sound,
        badge: input.badge,
      };
      const id = randomUUID();
      const users = [...new Set(input.users)];
      const toTarget = (registration: Awaited<ReturnType<typeof findTargets>>[number]): Target => ({
        user_id: registration.user_id,
        seq: registration.seq,
        provider: registration.provider,
        token: registration.provider_token,
        environment: registration.apns_environment,
        bundleid: registration.bundleid,
        language: registration.language,
      });
      // One page (a ring, a small send): read before the transaction, as short as it can be.
      // More: read page by page inside it, never holding every target at once.
      const single =
        users.length <= TARGET_PAGE
          ? (await findTargets(db, users, input.channel, input.bundleid)).map(toTarget)
          : undefined;
      try {
        const result = await store(
          {
            id,
            kind: 'send',
            channel: input.channel,
            bundleid: input.bundleid ?? null,
            content: JSON.stringify(content),
            collapse_id: input.collapse_id ?? null,
            ttl_seconds: ttl,
            expires_at: now + ttl * 1000,
            idempotency_key: input.idempotency_key ?? null,
            parent_id: null,
            api_key_id: apiKeyId,
            targets: single?.length ?? 0,
            created_at: now,
            cancelled_at: null,
          },
          async function* (trx) {
            if (single !== undefined) {
              yield single;
              return;
            }
            for (let index = 0; index < users.length; index += TARGET_PAGE) {
              const page = users.slice(index, index + TARGET_PAGE);
              yield (await findTargets(trx, page, input.channel, input.bundleid)).map(toTarget);
            }
          },
          single,
        );
        return { ...result, duplicate: false };
      } catch (error) {
        // Two requests with the same key at once: the loser answers with the winner.
        if (input.idempotency_key !== undefined && uniqueViolationTarget(error) !== undefined) {
          const winner = await findNotificationByIdempotencyKey(db, input.idempotency_key);
          if (winner !== undefined) return { id: winner.id, targets: winner.targets, duplicate: true };
        }
        throw error;
      }
    },

    /** The notification's state and one record per phone (paged by delivery id). */
    async get(id: string, page: { after?: string | undefined; limit: number }) {
      const { notification, counts, state } = await summary(id);
      const rows = await listDeliveries(db, id, {
        ...(page.after === undefined ? {} : { after: page.after }),
        limit: page.limit,
      });
      return {
        id: notification.id,
        kind: notification.kind,
        channel: notification.channel,
        state,
        parent_id: notification.parent_id,
        targets: notification.targets,
        counts,
        created_at: notification.created_at,
        expires_at: notification.expires_at,
        cancelled_at: notification.cancelled_at,
        deliveries: rows.map((row) => ({
          id: row.id,
          user_id: row.user_id,
          provider: row.provider,
          token: shortenToken(row.token),
          bundleid: row.bundleid,
          status: row.status === 'sending' ? ('queued' as const) : row.status,
          reason: row.reason,
          attempts: row.attempts,
          provider_message_id: row.provider_message_id,
          created_at: row.created_at,
          updated_at: row.updated_at,
          sent_at: row.sent_at,
        })),
        next: rows.length === page.limit ? rows.at(-1)?.id : undefined,
      };
    },

    /**
     * "Answered on another phone": phones the ring reached get a cancel with the same
     * collapse id and `data.type = "cancel"`; deliveries not yet made are called off.
     */
    async cancel(id: string): Promise<{ id: string; targets: number }> {
      const ring = await findNotification(db, id);
      if (ring === undefined) throw new AppError('NOT_FOUND');
      if (ring.channel !== 'ring' || ring.kind !== 'send') throw new AppError('NOT_A_RING');
      const now = clock.now();
      const reached = await db.transaction().execute(async (trx) => {
        await trx.updateTable('notifications').set({ cancelled_at: now }).where('id', '=', id).execute();
        await trx
          .updateTable('deliveries')
          .set({ status: 'failed', reason: 'cancelled', due_at: null, updated_at: now })
          .where('notification_id', '=', id)
          .where('status', 'in', ['queued', 'retrying'])
          .execute();
        return trx
          .selectFrom('deliveries')
          .selectAll()
          .where('notification_id', '=', id)
          .where('status', '=', 'sent')
          .execute();
      });
      const original = JSON.parse(ring.content) as NotificationContent;
      const ttl = deps.settings.ringTtlSeconds;
      return store(
        {
          id: randomUUID(),
          kind: 'cancel',
          channel: 'ring',
          bundleid: ring.bundleid,
          content: JSON.stringify({
            data: { ...original.data, type: 'cancel', ring_id: id },
          } satisfies NotificationContent),
          collapse_id: ring.collapse_id ?? id,
          ttl_seconds: ttl,
          expires_at: now + ttl * 1000,
          idempotency_key: null,
          parent_id: id,
          api_key_id: ring.api_key_id,
          targets: reached.length,
          created_at: now,
          cancelled_at: null,
        },
        async function* () {
          yield reached.map((delivery) => ({
            user_id: delivery.user_id,
            seq: delivery.registration_seq,
            provider: delivery.provider,
            token: delivery.token,
            environment: delivery.environment,
            bundleid: delivery.bundleid,
            language: delivery.language,
          }));
        },
      );
    },

    /**
     * Phones connected to the push channel: their deliveries waiting for them (see the
     * worker's `reroute`) are due now. Returns how many were.
     */
    async resume(provider: string, tokens: readonly string[]): Promise<number> {
      const now = clock.now();
      const ids: string[] = [];
      for (let index = 0; index < tokens.length; index += 500) {
        const rows = await db
          .updateTable('deliveries')
          .set({ due_at: now, updated_at: now })
          .where('provider', '=', provider)
          .where('token', 'in', tokens.slice(index, index + 500))
          .where('status', '=', 'retrying')
          .where('reason', '=', 'offline')
          .returning('id')
          .execute();
        for (const row of rows) ids.push(row.id);
      }
      if (ids.length > 0) await queue.enqueue(ids.map((id) => ({ id, dueAt: now, priority: 0 })));
      return ids.length;
    },

    async inbox(bundleid: string, page: { before?: number | undefined; limit: number }) {
      let query = db.selectFrom('inbox').selectAll().where('bundleid', '=', bundleid);
      if (page.before !== undefined) query = query.where('id', '<', page.before);
      const rows = await query.orderBy('id', 'desc').limit(page.limit).execute();
      return rows.map((row) => ({
        id: row.id,
        delivery_id: row.delivery_id,
        notification_id: row.notification_id,
        provider: row.provider,
        request: JSON.parse(row.request) as unknown,
        created_at: row.created_at,
      }));
    },
  };
}

export type DeliveryService = ReturnType<typeof createDeliveryService>;
