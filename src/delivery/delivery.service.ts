import { randomUUID } from 'node:crypto';
import type { Apps } from '../admin/apps.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { uniqueViolationTarget } from '../db/errors.js';
import type { DeliveryStatus, Executor, NotificationsTable } from '../db/schema.js';
import { AppError } from '../errors.js';
import { findTargets } from '../registry/registrations-for-delivery.js';
import type { Channel } from '../registry/registry.repository.js';
import {
  countDeliveriesByStatus,
  findNotification,
  findNotificationByIdempotencyKey,
  findSentDeliveries,
  listDeliveries,
  listInbox,
  makeWaitingDue,
  markRingCancelled,
  releaseIdempotencyKey,
} from './delivery.repository.js';
import type { LocalizedText } from './localization.js';
import { type LocalWorker, storeNotification, type Target } from './notification-store.js';
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

export type { LocalWorker } from './notification-store.js';

export function shortenToken(token: string): string {
  return token.length <= 12 ? token : `${token.slice(0, 6)}…${token.slice(-4)}`;
}

export interface DeliveryServiceDeps {
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
}

export function createDeliveryService(deps: DeliveryServiceDeps) {
  return {
    send: (input: SendInput, apiKeyId: string | null) => send(deps, input, apiKeyId),
    /** The notification's state and one record per phone (paged by delivery id). */
    get: (id: string, page: { after?: string | undefined; limit: number }) => view(deps.db, id, page),
    cancel: (id: string) => cancel(deps, id),
    resume: (provider: string, tokens: readonly string[]) => resume(deps, provider, tokens),
    inbox: (bundleid: string, page: { before?: number | undefined; limit: number }) =>
      inbox(deps.db, bundleid, page),
  };
}

export type DeliveryService = ReturnType<typeof createDeliveryService>;

type SendResult = { id: string; targets: number; duplicate: boolean };

async function send(
  deps: DeliveryServiceDeps,
  input: SendInput,
  apiKeyId: string | null,
): Promise<SendResult> {
  const { db } = deps;
  const now = deps.clock.now();
  const key = input.idempotency_key;
  if (key !== undefined) {
    const earlier = await findNotificationByIdempotencyKey(db, key);
    if (earlier !== undefined && earlier.created_at > now - idempotencyWindowMs) {
      return { id: earlier.id, targets: earlier.targets, duplicate: true };
    }
    if (earlier !== undefined) await releaseIdempotencyKey(db, earlier.id);
  }
  const users = [...new Set(input.users)];
  // One page (a ring, a small send): read before the transaction, as short as it can be.
  // More: read page by page inside it, never holding every target at once.
  const single =
    users.length <= TARGET_PAGE
      ? (await findTargets(db, users, input.channel, input.bundleid)).map(toTarget)
      : undefined;
  async function* pages(trx: Executor) {
    if (single !== undefined) {
      yield single;
      return;
    }
    for (let index = 0; index < users.length; index += TARGET_PAGE) {
      const page = users.slice(index, index + TARGET_PAGE);
      yield (await findTargets(trx, page, input.channel, input.bundleid)).map(toTarget);
    }
  }
  try {
    const notification = notificationOf(deps.settings, input, apiKeyId, now, single?.length ?? 0);
    const result = await storeNotification(deps, notification, pages, single);
    return { ...result, duplicate: false };
  } catch (error) {
    // Two requests with the same key at once: the loser answers with the winner.
    if (key !== undefined && uniqueViolationTarget(error) !== undefined) {
      const winner = await findNotificationByIdempotencyKey(db, key);
      if (winner !== undefined) return { id: winner.id, targets: winner.targets, duplicate: true };
    }
    throw error;
  }
}

function toTarget(registration: Awaited<ReturnType<typeof findTargets>>[number]): Target {
  return {
    user_id: registration.user_id,
    seq: registration.seq,
    provider: registration.provider,
    token: registration.provider_token,
    environment: registration.apns_environment,
    bundleid: registration.bundleid,
    language: registration.language,
  };
}

/** The notification a send stores. */
function notificationOf(
  settings: Config['delivery'],
  input: SendInput,
  apiKeyId: string | null,
  now: number,
  targets: number,
): NotificationsTable {
  const ttl = input.ttl ?? (input.channel === 'ring' ? settings.ringTtlSeconds : settings.messageTtlSeconds);
  const content: NotificationContent = {
    title: input.title,
    body: input.body,
    localized: input.localized,
    data: input.data ?? {},
    sound: input.sound,
    badge: input.badge,
  };
  return {
    id: randomUUID(),
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
    targets,
    created_at: now,
    cancelled_at: null,
  };
}

async function summary(db: Executor, id: string) {
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

async function view(db: Executor, id: string, page: { after?: string | undefined; limit: number }) {
  const { notification, counts, state } = await summary(db, id);
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
}

/**
 * "Answered on another phone": phones the ring reached get a cancel with the same
 * collapse id and `data.type = "cancel"`; deliveries not yet made are called off.
 */
async function cancel(deps: DeliveryServiceDeps, id: string): Promise<{ id: string; targets: number }> {
  const ring = await findNotification(deps.db, id);
  if (ring === undefined) throw new AppError('NOT_FOUND');
  if (ring.channel !== 'ring' || ring.kind !== 'send') throw new AppError('NOT_A_RING');
  const now = deps.clock.now();
  const reached = await deps.db.transaction().execute(async (trx) => {
    await markRingCancelled(trx, id, now);
    return findSentDeliveries(trx, id);
  });
  const original = JSON.parse(ring.content) as NotificationContent;
  const ttl = deps.settings.ringTtlSeconds;
  return storeNotification(
    deps,
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
}

/**
 * Phones connected to the push channel: their deliveries waiting for them (see the
 * worker's `reroute`) are due now. Returns how many were.
 */
async function resume(
  deps: DeliveryServiceDeps,
  provider: string,
  tokens: readonly string[],
): Promise<number> {
  const now = deps.clock.now();
  const ids = await makeWaitingDue(deps.db, provider, tokens, now);
  if (ids.length > 0) await deps.queue.enqueue(ids.map((id) => ({ id, dueAt: now, priority: 0 })));
  return ids.length;
}

async function inbox(db: Executor, bundleid: string, page: { before?: number | undefined; limit: number }) {
  const rows = await listInbox(db, bundleid, page);
  return rows.map((row) => ({
    id: row.id,
    delivery_id: row.delivery_id,
    notification_id: row.notification_id,
    provider: row.provider,
    request: JSON.parse(row.request) as unknown,
    created_at: row.created_at,
  }));
}
