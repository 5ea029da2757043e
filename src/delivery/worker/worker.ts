import type { App } from '../../admin/apps.js';
import type { PushAdapter, PushMessage } from '../providers/adapter.js';
import type { ProviderEntry } from '../providers/catalogue.js';
import type { DeliveryWorkerDeps, WorkerContext } from './context.js';
import { Gatherer } from './gatherer.js';
import { createContentCache, messageOptionsOf, toMessage } from './message.js';
import { applyResults, settle } from './record-results.js';
import {
  type ClaimedDelivery,
  countPending,
  findClaimed,
  insertInboxEntries,
  pruneBefore,
} from './worker.repository.js';

export { backoffMs } from './outcomes.js';

const DAY_MS = 24 * 3600 * 1000;

/** Delivers claimed deliveries: builds messages, calls providers, records what they answered. */
export function createDeliveryWorker(deps: DeliveryWorkerDeps) {
  const gatherer = new Gatherer({
    lingerMs: deps.settings.batchLingerMs,
    log: deps.log,
    send: (app, adapter, rows, messages) => sendAndApply(context, app, adapter, rows, messages),
  });
  const context: GroupContext = {
    ...deps,
    gatherer,
    deliverNow: (rows) => deliverGroup(context, rows, true),
  };
  return {
    /** Sends what gatherings hold now: nothing more is coming (the queue is idle). */
    flushGathered(): void {
      gatherer.flush();
    },

    /** Sends what gatherings hold and waits for every send in progress (at shutdown). */
    drain(): Promise<void> {
      return gatherer.drain();
    },

    /** Delivers claimed deliveries: one adapter call per app and provider. */
    async process(ids: string[]): Promise<void> {
      const groups = new Map<string, ClaimedDelivery[]>();
      for (const row of await findClaimed(deps.db, ids)) {
        const key = `${row.bundleid}\u0000${row.provider}`;
        const group = groups.get(key);
        if (group === undefined) groups.set(key, [row]);
        else group.push(row);
      }
      await Promise.all(
        [...groups.values()].map((group) =>
          deliverGroup(context, group, false).catch((error: unknown) => {
            // The lease runs out and the deliveries are handed out again.
            deps.log.error({ err: error }, 'delivery batch failed');
          }),
        ),
      );
    },

    /** Deletes notifications (with their deliveries) and inbox entries past the retention. */
    prune(): Promise<void> {
      return pruneBefore(deps.db, deps.clock.now() - deps.settings.retentionDays * DAY_MS);
    },

    /** Deliveries not yet final. */
    queueDepth(): Promise<number> {
      return countPending(deps.db);
    },
  };
}

export type DeliveryWorker = ReturnType<typeof createDeliveryWorker>;

type GroupContext = WorkerContext & { gatherer: Gatherer };

/**
 * Delivers deliveries of one app and provider. `sendNow`: gathered messages go out at once,
 * without waiting for others to join them.
 */
async function deliverGroup(context: GroupContext, rows: ClaimedDelivery[], sendNow: boolean): Promise<void> {
  const first = rows[0];
  if (first === undefined) return;
  const now = context.clock.now();
  const live = rows.filter((row) => row.expires_at > now);
  const expired = rows.filter((row) => row.expires_at <= now);
  await settle(context, expired, 'expired', 'ttl_passed', { attempted: false });
  if (live.length === 0) return;
  const app = await context.apps.load(first.bundleid);
  const contentOf = createContentCache();
  const direct = context.direct?.[first.provider];
  if (direct !== undefined) {
    const results = await direct.send(live.map((row) => toMessage(row, contentOf(row), app, {})));
    await applyResults(context, app, live, results);
    return;
  }
  const module = context.catalogue[first.provider];
  if (app === undefined || module === undefined) {
    await settle(context, live, 'failed', 'app_not_configured', { attempted: false });
    return;
  }
  const options = messageOptionsOf(app, first.provider, module);
  const messages = live.map((row) => toMessage(row, contentOf(row), app, options));
  if (app.mode === 'inbox') {
    await captureInInbox(context, app, module, live, messages, now);
    return;
  }
  const adapter = context.adapters.get(app, first.provider);
  if (adapter === undefined) {
    await settle(context, live, 'failed', 'app_not_configured', { attempted: false });
    return;
  }
  await sendOrGather(context, app, adapter, live, messages, sendNow);
}

/** Inbox mode: the exact request the provider would get is stored instead of sent. */
async function captureInInbox(
  context: GroupContext,
  app: App,
  module: ProviderEntry,
  rows: readonly ClaimedDelivery[],
  messages: readonly PushMessage[],
  now: number,
): Promise<void> {
  await insertInboxEntries(
    context.db,
    rows.map((row, index) => ({
      bundleid: app.bundleid,
      delivery_id: row.id,
      notification_id: row.notification_id,
      provider: row.provider,
      request: JSON.stringify(
        module.buildRequest(messages[index] as PushMessage, app.providers[row.provider], now),
      ),
      created_at: now,
    })),
  );
  await settle(context, rows, 'sent', 'inbox', { attempted: true, sentAt: now });
}

/** Rings go out at once; messages wait a moment for more of their kind to fill a batch call. */
async function sendOrGather(
  context: GroupContext,
  app: App,
  adapter: PushAdapter,
  rows: readonly ClaimedDelivery[],
  messages: readonly PushMessage[],
  sendNow: boolean,
): Promise<void> {
  const batchSize = adapter.batchSize ?? 1;
  if (batchSize <= 1) {
    await sendAndApply(context, app, adapter, rows, messages);
    return;
  }
  const rings = rows.flatMap((row, index) => (row.channel === 'ring' ? [index] : []));
  const gathered = rows.flatMap((row, index) => (row.channel === 'ring' ? [] : [index]));
  const pick = <T>(items: readonly T[], indexes: number[]) => indexes.map((index) => items[index] as T);
  await Promise.all([
    rings.length > 0
      ? sendAndApply(context, app, adapter, pick(rows, rings), pick(messages, rings))
      : undefined,
    gathered.length > 0
      ? context.gatherer.gather(
          app,
          adapter,
          batchSize,
          pick(rows, gathered),
          pick(messages, gathered),
          sendNow,
        )
      : undefined,
  ]);
}

async function sendAndApply(
  context: WorkerContext,
  app: App,
  adapter: PushAdapter,
  rows: readonly ClaimedDelivery[],
  messages: readonly PushMessage[],
): Promise<void> {
  const results = await adapter.send(messages);
  await applyResults(context, app, rows, results);
}
