import type { App } from '../../admin/apps.js';
import type { DeliveryStatus } from '../../db/schema.js';
import { removeDeadRegistrations } from '../../registry/registrations-for-delivery.js';
import type { PushResult } from '../providers/adapter.js';
import type { WorkerContext } from './context.js';
import { classifyResults } from './outcomes.js';
import { reroute } from './reroute.js';
import {
  type ClaimedDelivery,
  recordRetries,
  recordSentWithIds,
  type SettleOptions,
  settleDeliveries,
} from './worker.repository.js';

/** Gives deliveries a final status and counts them. */
export async function settle(
  context: WorkerContext,
  rows: readonly ClaimedDelivery[],
  status: DeliveryStatus,
  reason: string | null,
  options: Omit<SettleOptions, 'now'>,
): Promise<void> {
  if (rows.length === 0) return;
  const ids = rows.map((row) => row.id);
  await settleDeliveries(context.db, ids, status, reason, { ...options, now: context.clock.now() });
  for (const row of rows)
    context.metrics.deliveries.inc({ provider: row.provider, channel: row.channel, status });
}

/** Records what the provider answered for each delivery of one call (`results` in order). */
export async function applyResults(
  context: WorkerContext,
  app: App | undefined,
  rows: readonly ClaimedDelivery[],
  results: readonly PushResult[],
): Promise<void> {
  const { db, clock, metrics } = context;
  const now = clock.now();
  const outcomes = classifyResults(rows, results, { now, maxAttempts: context.settings.maxAttempts });
  rows.forEach((row, index) => {
    if (results[index]?.ok !== true) return;
    metrics.acceptToProvider.observe(
      { provider: row.provider, channel: row.channel },
      (now - row.accepted_at) / 1000,
    );
  });
  if (app !== undefined)
    for (const [provider, reason] of outcomes.credentialsRefused) void flag(context, app, provider, reason);

  const sent = { attempted: true, sentAt: now };
  await settle(context, outcomes.sentEchoingId, 'sent', null, { ...sent, messageIdIsDeliveryId: true });
  await settle(context, outcomes.sentWithoutId, 'sent', null, sent);
  await recordSentWithIds(db, outcomes.sentWithId, now);
  for (const { row } of outcomes.sentWithId)
    metrics.deliveries.inc({ provider: row.provider, channel: row.channel, status: 'sent' });

  await removeDeadRegistrations(
    db,
    outcomes.dead.flatMap(({ row }) =>
      row.registration_seq === null ? [] : [{ seq: row.registration_seq, providerToken: row.token }],
    ),
  );
  for (const { row, reason } of outcomes.dead)
    await settle(context, [row], 'invalid_token', reason, { attempted: true });
  for (const { row, reason } of outcomes.failed)
    await settle(context, [row], 'failed', reason, { attempted: true });

  await recordRetries(db, outcomes.retry, now);
  for (const { row, status } of outcomes.retry) {
    if (status === 'retrying') metrics.deliveryRetries.inc({ provider: row.provider });
    else metrics.deliveries.inc({ provider: row.provider, channel: row.channel, status });
  }
  if (outcomes.unreachable.length > 0) await reroute(context, outcomes.unreachable);
}

/** Marks the app's settings of a provider as refused (once per reason). */
async function flag(context: WorkerContext, app: App, provider: string, reason: string): Promise<void> {
  if (app.flags[provider]?.reason === reason) return;
  context.log.error(
    { bundleid: app.bundleid, provider, reason },
    'the provider rejected the app credentials',
  );
  try {
    await context.apps.flag(app.bundleid, provider, reason);
  } catch (error) {
    context.log.error({ err: error }, 'could not flag the app');
  }
}
