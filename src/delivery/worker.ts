import type { FastifyBaseLogger } from 'fastify';
import type { App, Apps } from '../admin/apps.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { DeliveryStatus, Executor } from '../db/schema.js';
import type { Metrics } from '../metrics.js';
import { fallbackRoute } from '../registry/routing.js';
import type { NotificationContent } from './delivery.service.js';
import { localize } from './localization.js';
import type { PushAdapter, PushMessage, PushResult } from './providers/adapter.js';
import type { AdapterPool } from './providers/adapters.js';
import type { ProviderCatalogue } from './providers/catalogue.js';

interface ClaimedDelivery {
  id: string;
  notification_id: string;
  registration_seq: number | null;
  provider: string;
  token: string;
  environment: string | null;
  bundleid: string;
  language: string;
  attempts: number;
  kind: 'send' | 'cancel';
  channel: 'ring' | 'message';
  content: string;
  collapse_id: string | null;
  expires_at: number;
  accepted_at: number;
}

/** Messages waiting to fill one adapter's batch call. */
interface Gathering {
  app: App;
  entries: Array<{ row: ClaimedDelivery; message: PushMessage }>;
  timer: NodeJS.Timeout | undefined;
}

/** Exponential backoff with full jitter: 1 s, 2 s, 4 s … capped at 5 min. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(300_000, 1000 * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

export function createDeliveryWorker(deps: {
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
}) {
  const { db, clock, apps, metrics, log } = deps;
  const gatherings = new Map<PushAdapter, Gathering>();

  function toMessage(
    row: ClaimedDelivery,
    app: App | undefined,
    contents: Map<string, NotificationContent>,
  ): PushMessage {
    let content = contents.get(row.notification_id);
    if (content === undefined) {
      content = JSON.parse(row.content) as NotificationContent;
      contents.set(row.notification_id, content);
    }
    const text = localize(content, row.language, app?.defaultLanguage ?? 'en');
    const settings = app?.providers[row.provider] as { channel_id?: unknown } | undefined;
    const data =
      row.channel === 'ring' && row.kind === 'send'
        ? { ...content.data, ring_id: row.notification_id }
        : content.data;
    return {
      deliveryId: row.id,
      token: row.token,
      channel: row.channel,
      bundleId: row.bundleid,
      environment: row.environment === 'sandbox' ? 'sandbox' : row.environment === null ? null : 'production',
      title: text.title,
      body: text.body,
      data,
      sound: content.sound,
      badge: content.badge,
      collapseId: row.collapse_id ?? (row.channel === 'ring' ? row.notification_id : undefined),
      expiresAt: row.expires_at,
      androidChannelId: typeof settings?.channel_id === 'string' ? settings.channel_id : undefined,
    };
  }

  /** Gives deliveries a final status; `attempted` when a provider (or the inbox) saw them. */
  async function settle(
    rows: readonly ClaimedDelivery[],
    status: DeliveryStatus,
    reason: string | null,
    options: { attempted: boolean; sentAt?: number; messageIdIsDeliveryId?: boolean },
  ): Promise<void> {
    if (rows.length === 0) return;
    const now = clock.now();
    for (let index = 0; index < rows.length; index += 500) {
      const ids = rows.slice(index, index + 500).map((row) => row.id);
      await db
        .updateTable('deliveries')
        .set((eb) => ({
          status,
          reason,
          due_at: null,
          updated_at: now,
          sent_at: options.sentAt ?? null,
          // APNs echoes the apns-id, which is the delivery id.
          ...(options.messageIdIsDeliveryId === true ? { provider_message_id: eb.ref('id') } : {}),
          ...(options.attempted ? { attempts: eb('attempts', '+', 1) } : {}),
        }))
        .where('id', 'in', ids)
        .execute();
    }
    for (const row of rows) metrics.deliveries.inc({ provider: row.provider, channel: row.channel, status });
  }

  async function applyResults(
    app: App | undefined,
    rows: readonly ClaimedDelivery[],
    results: readonly PushResult[],
  ): Promise<void> {
    const now = clock.now();
    const sentSameId: ClaimedDelivery[] = [];
    const sentWithoutId: ClaimedDelivery[] = [];
    const sentOwnId: Array<{ row: ClaimedDelivery; messageId: string }> = [];
    const dead: Array<{ row: ClaimedDelivery; reason: string }> = [];
    const failed: Array<{ row: ClaimedDelivery; reason: string }> = [];
    const retry: Array<{ row: ClaimedDelivery; reason: string; retryAfterMs: number | undefined }> = [];
    const unreachable: ClaimedDelivery[] = [];
    const credsReasons = new Map<string, string>();
    rows.forEach((row, index) => {
      const result = results[index] ?? { ok: false, failure: 'retry', reason: 'no_result' };
      if (result.ok) {
        metrics.acceptToProvider.observe(
          { provider: row.provider, channel: row.channel },
          (now - row.accepted_at) / 1000,
        );
        if (result.providerMessageId === undefined || result.providerMessageId === row.id)
          sentSameId.push(row);
        else sentOwnId.push({ row, messageId: result.providerMessageId });
      } else if (result.failure === 'dead') dead.push({ row, reason: result.reason });
      else if (result.failure === 'unreachable') unreachable.push(row);
      else if (result.failure === 'retry')
        retry.push({ row, reason: result.reason, retryAfterMs: result.retryAfterMs });
      else failed.push({ row, reason: result.reason });
      if (!result.ok && result.failure === 'creds') credsReasons.set(row.provider, result.reason);
    });
    if (app !== undefined) for (const [provider, reason] of credsReasons) void flag(app, provider, reason);

    await settle(sentSameId, 'sent', null, { attempted: true, sentAt: now, messageIdIsDeliveryId: true });
    await settle(sentWithoutId, 'sent', null, { attempted: true, sentAt: now });
    if (sentOwnId.length > 0)
      await db.transaction().execute(async (trx) => {
        for (const { row, messageId } of sentOwnId) {
          await trx
            .updateTable('deliveries')
            .set({
              status: 'sent',
              reason: null,
              due_at: null,
              updated_at: now,
              sent_at: now,
              provider_message_id: messageId,
              attempts: row.attempts + 1,
            })
            .where('id', '=', row.id)
            .execute();
          metrics.deliveries.inc({ provider: row.provider, channel: row.channel, status: 'sent' });
        }
      });

    // A dead token's registration goes, unless the phone has registered a new token since.
    if (dead.length > 0)
      await db.transaction().execute(async (trx) => {
        for (const { row } of dead) {
          if (row.registration_seq === null) continue;
          await trx
            .deleteFrom('registrations')
            .where('seq', '=', row.registration_seq)
            .where('provider_token', '=', row.token)
            .execute();
        }
      });
    for (const { row, reason } of dead) await settle([row], 'invalid_token', reason, { attempted: true });
    for (const { row, reason } of failed) await settle([row], 'failed', reason, { attempted: true });

    if (retry.length > 0)
      await db.transaction().execute(async (trx) => {
        for (const { row, reason, retryAfterMs } of retry) {
          const attempts = row.attempts + 1;
          const dueAt = now + Math.max(retryAfterMs ?? 0, backoffMs(attempts));
          const status: DeliveryStatus =
            attempts >= deps.settings.maxAttempts
              ? 'failed'
              : dueAt >= row.expires_at
                ? 'expired'
                : 'retrying';
          await trx
            .updateTable('deliveries')
            .set({ status, reason, attempts, updated_at: now, due_at: status === 'retrying' ? dueAt : null })
            .where('id', '=', row.id)
            .execute();
          if (status === 'retrying') metrics.deliveryRetries.inc({ provider: row.provider });
          else metrics.deliveries.inc({ provider: row.provider, channel: row.channel, status });
        }
      });
    if (unreachable.length > 0) await reroute(unreachable);
  }

  /** Whether deliveries of this app can go through `provider` now. */
  async function canSend(bundleid: string, provider: string): Promise<boolean> {
    if (deps.direct?.[provider] !== undefined) return true;
    if (deps.catalogue[provider] === undefined) return false;
    const app = await apps.load(bundleid);
    return app !== undefined && (app.mode === 'inbox' || app.providers[provider] !== undefined);
  }

  /**
   * Deliveries the device could not be reached for: those whose registration has a fallback
   * route the app can use move to it and go out now (the delivery record then names the
   * fallback provider); the others wait for the device: due again when it reconnects (see
   * DeliveryService.resume), at the latest after `unreachableRecheckMs`, and expired at
   * their TTL. Waiting is not an attempt.
   */
  async function reroute(rows: readonly ClaimedDelivery[]): Promise<void> {
    const now = clock.now();
    const seqs = rows.flatMap((row) => (row.registration_seq === null ? [] : [row.registration_seq]));
    const registrations =
      seqs.length === 0
        ? []
        : await db
            .selectFrom('registrations')
            .select(['seq', 'push_token', 'os', 'os_token', 'push_platform', 'dev'])
            .where('seq', 'in', seqs)
            .execute();
    const bySeq = new Map(registrations.map((registration) => [registration.seq, registration]));
    const moved: ClaimedDelivery[] = [];
    const waiting: ClaimedDelivery[] = [];
    for (const row of rows) {
      const registration = row.registration_seq === null ? undefined : bySeq.get(row.registration_seq);
      // The registration must still be the one the delivery was made for.
      const route =
        registration !== undefined && registration.push_token === row.token
          ? fallbackRoute(registration)
          : undefined;
      if (route?.providerToken != null && (await canSend(row.bundleid, route.provider))) {
        moved.push({
          ...row,
          provider: route.provider,
          token: route.providerToken,
          environment: route.apnsEnvironment,
        });
      } else waiting.push(row);
    }
    const waitUntil = new Map<number, string[]>();
    for (const row of waiting) {
      const dueAt = Math.min(row.expires_at, now + deps.settings.unreachableRecheckMs);
      const ids = waitUntil.get(dueAt);
      if (ids === undefined) waitUntil.set(dueAt, [row.id]);
      else ids.push(row.id);
    }
    for (const [dueAt, ids] of waitUntil) {
      for (let index = 0; index < ids.length; index += 500) {
        await db
          .updateTable('deliveries')
          .set({ status: 'retrying', reason: 'offline', updated_at: now, due_at: dueAt })
          .where('id', 'in', ids.slice(index, index + 500))
          .execute();
      }
    }
    if (moved.length === 0) return;
    await db.transaction().execute(async (trx) => {
      for (const row of moved) {
        await trx
          .updateTable('deliveries')
          .set({ provider: row.provider, token: row.token, environment: row.environment, updated_at: now })
          .where('id', '=', row.id)
          .execute();
      }
    });
    const groups = new Map<string, ClaimedDelivery[]>();
    for (const row of moved) {
      const group = groups.get(row.provider);
      if (group === undefined) groups.set(row.provider, [row]);
      else group.push(row);
    }
    await Promise.all([...groups.values()].map((group) => deliverGroup(group)));
  }

  async function flag(app: App, provider: string, reason: string): Promise<void> {
    if (app.flags[provider]?.reason === reason) return;
    log.error({ bundleid: app.bundleid, provider, reason }, 'the provider rejected the app credentials');
    try {
      await apps.flag(app.bundleid, provider, reason);
    } catch (error) {
      log.error({ err: error }, 'could not flag the app');
    }
  }

  /** `sendNow`: gathered messages go out at once, without waiting for others to join them. */
  async function deliverGroup(rows: ClaimedDelivery[], sendNow = true): Promise<void> {
    const first = rows[0];
    if (first === undefined) return;
    const now = clock.now();
    const live = rows.filter((row) => row.expires_at > now);
    await settle(
      rows.filter((row) => row.expires_at <= now),
      'expired',
      'ttl_passed',
      { attempted: false },
    );
    if (live.length === 0) return;
    const app = await apps.load(first.bundleid);
    const contents = new Map<string, NotificationContent>();
    const direct = deps.direct?.[first.provider];
    if (direct !== undefined) {
      const results = await direct.send(live.map((row) => toMessage(row, app, contents)));
      await applyResults(app, live, results);
      return;
    }
    const module = deps.catalogue[first.provider];
    if (app === undefined || module === undefined) {
      await settle(live, 'failed', 'app_not_configured', { attempted: false });
      return;
    }
    const messages = live.map((row) => toMessage(row, app, contents));
    if (app.mode === 'inbox') {
      const entries = messages.map((message, index) => ({
        bundleid: app.bundleid,
        delivery_id: message.deliveryId,
        notification_id: live[index]?.notification_id ?? '',
        provider: first.provider,
        request: JSON.stringify(module.buildRequest(message, app.providers[first.provider], now)),
        created_at: now,
      }));
      for (let index = 0; index < entries.length; index += 200) {
        await db
          .insertInto('inbox')
          .values(entries.slice(index, index + 200))
          .execute();
      }
      await settle(live, 'sent', 'inbox', { attempted: true, sentAt: now });
      return;
    }
    const adapter = deps.adapters.get(app, first.provider);
    if (adapter === undefined) {
      await settle(live, 'failed', 'app_not_configured', { attempted: false });
      return;
    }
    const batchSize = adapter.batchSize ?? 1;
    if (batchSize <= 1) {
      await sendAndApply(app, adapter, live, messages);
      return;
    }
    // Rings go out at once; messages wait a moment for more of their kind to fill a batch call.
    const rings = live.flatMap((row, index) => (row.channel === 'ring' ? [index] : []));
    const gathered = live.flatMap((row, index) => (row.channel === 'ring' ? [] : [index]));
    const pick = <T>(items: readonly T[], indexes: number[]) => indexes.map((index) => items[index] as T);
    await Promise.all([
      rings.length > 0 ? sendAndApply(app, adapter, pick(live, rings), pick(messages, rings)) : undefined,
      gathered.length > 0
        ? gather(app, adapter, batchSize, pick(live, gathered), pick(messages, gathered), sendNow)
        : undefined,
    ]);
  }

  async function sendAndApply(
    app: App,
    adapter: PushAdapter,
    rows: readonly ClaimedDelivery[],
    messages: readonly PushMessage[],
  ): Promise<void> {
    const results = await adapter.send(messages);
    await applyResults(app, rows, results);
  }

  /** Sends in progress from gatherings, which `drain` waits for. */
  const gatheredSends = new Set<Promise<void>>();

  function sendGatheredNow(adapter: PushAdapter, gathering: Gathering, count: number): Promise<void> {
    const sending = sendGathered(adapter, gathering, count);
    gatheredSends.add(sending);
    void sending.finally(() => gatheredSends.delete(sending));
    return sending;
  }

  /**
   * Adds messages to the adapter's gathering. A full batch goes at once, and the claim that
   * filled it waits for it (so claims cannot outrun the provider); the rest goes when later
   * claims fill it, when the queue is idle (`flushGathered`), or after `batchLingerMs` at the
   * latest (well within the claims' lease).
   */
  function gather(
    app: App,
    adapter: PushAdapter,
    batchSize: number,
    rows: readonly ClaimedDelivery[],
    messages: readonly PushMessage[],
    sendNow: boolean,
  ): Promise<void> {
    let gathering = gatherings.get(adapter);
    if (gathering === undefined) {
      gathering = { app, entries: [], timer: undefined };
      gatherings.set(adapter, gathering);
    }
    gathering.app = app;
    const current = gathering;
    rows.forEach((row, index) => {
      current.entries.push({ row, message: messages[index] as PushMessage });
    });
    const sends: Array<Promise<void>> = [];
    while (current.entries.length >= batchSize) sends.push(sendGatheredNow(adapter, current, batchSize));
    if (sendNow && current.entries.length > 0) {
      sends.push(sendGatheredNow(adapter, current, current.entries.length));
    } else if (current.entries.length > 0 && current.timer === undefined) {
      current.timer = setTimeout(() => {
        current.timer = undefined;
        void sendGatheredNow(adapter, current, current.entries.length);
      }, deps.settings.batchLingerMs);
    }
    return Promise.all(sends).then(() => undefined);
  }

  async function sendGathered(adapter: PushAdapter, gathering: Gathering, count: number): Promise<void> {
    const entries = gathering.entries.splice(0, count);
    if (gathering.entries.length === 0) {
      clearTimeout(gathering.timer);
      gathering.timer = undefined;
      if (gatherings.get(adapter) === gathering) gatherings.delete(adapter);
    }
    if (entries.length === 0) return;
    try {
      await sendAndApply(
        gathering.app,
        adapter,
        entries.map((entry) => entry.row),
        entries.map((entry) => entry.message),
      );
    } catch (error) {
      // The lease runs out and the deliveries are handed out again.
      log.error({ err: error }, 'delivery batch failed');
    }
  }

  return {
    /** Sends what gatherings hold now: nothing more is coming (the queue is idle). */
    flushGathered(): void {
      for (const [adapter, gathering] of gatherings) {
        clearTimeout(gathering.timer);
        gathering.timer = undefined;
        void sendGatheredNow(adapter, gathering, gathering.entries.length);
      }
    },

    /** Sends what gatherings hold and waits for every send in progress (at shutdown). */
    async drain(): Promise<void> {
      this.flushGathered();
      await Promise.all(gatheredSends);
    },

    /** Delivers claimed deliveries: one adapter call per app and provider. */
    async process(ids: string[]): Promise<void> {
      // Two look-ups by primary key rather than a join: PostgreSQL's statistics lag a large
      // fan-out, and a join planned on them walked every delivery of the notification per batch.
      const deliveries = await db
        .selectFrom('deliveries')
        .select([
          'id',
          'notification_id',
          'registration_seq',
          'provider',
          'token',
          'environment',
          'bundleid',
          'language',
          'attempts',
        ])
        .where('id', 'in', ids)
        .where('status', '=', 'sending')
        .execute();
      if (deliveries.length === 0) return;
      const notifications = await db
        .selectFrom('notifications')
        .select([
          'id',
          'kind',
          'channel',
          'content',
          'collapse_id',
          'expires_at',
          'created_at as accepted_at',
        ])
        .where('id', 'in', [...new Set(deliveries.map((delivery) => delivery.notification_id))])
        .execute();
      const byId = new Map(notifications.map(({ id, ...notification }) => [id, notification]));
      const rows: ClaimedDelivery[] = [];
      for (const delivery of deliveries) {
        const notification = byId.get(delivery.notification_id);
        if (notification !== undefined) rows.push({ ...delivery, ...notification });
      }
      const groups = new Map<string, ClaimedDelivery[]>();
      for (const row of rows) {
        const key = `${row.bundleid}\u0000${row.provider}`;
        const group = groups.get(key);
        if (group === undefined) groups.set(key, [row]);
        else group.push(row);
      }
      await Promise.all(
        [...groups.values()].map((group) =>
          deliverGroup(group, false).catch((error: unknown) => {
            // The lease runs out and the deliveries are handed out again.
            log.error({ err: error }, 'delivery batch failed');
          }),
        ),
      );
    },

    /** Deletes notifications (with their deliveries) and inbox entries past the retention. */
    async prune(): Promise<void> {
      const before = clock.now() - deps.settings.retentionDays * 24 * 3600 * 1000;
      await db
        .deleteFrom('deliveries')
        .where(
          'notification_id',
          'in',
          db.selectFrom('notifications').select('id').where('created_at', '<', before),
        )
        .execute();
      await db.deleteFrom('notifications').where('created_at', '<', before).execute();
      await db.deleteFrom('inbox').where('created_at', '<', before).execute();
    },

    async queueDepth(): Promise<number> {
      const row = await db
        .selectFrom('deliveries')
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .where('status', 'in', ['queued', 'retrying', 'sending'])
        .executeTakeFirst();
      return Number(row?.count ?? 0);
    },
  };
}

export type DeliveryWorker = ReturnType<typeof createDeliveryWorker>;
