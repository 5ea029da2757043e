import { findFallbackRoutes } from '../../registry/registrations-for-delivery.js';
import type { WorkerContext } from './context.js';
import { type ClaimedDelivery, markWaiting, recordRoutes } from './worker.repository.js';

/**
 * Deliveries the device could not be reached for: those whose registration has a fallback
 * route the app can use move to it and go out now (the delivery record then names the
 * fallback provider); the others wait for the device: due again when it reconnects (see
 * DeliveryService.resume), at the latest after `unreachableRecheckMs`, and expired at
 * their TTL. Waiting is not an attempt.
 */
export async function reroute(context: WorkerContext, rows: readonly ClaimedDelivery[]): Promise<void> {
  const now = context.clock.now();
  const routes = await findFallbackRoutes(
    context.db,
    rows.map((row) => ({ registrationSeq: row.registration_seq, token: row.token })),
  );
  const moved: ClaimedDelivery[] = [];
  const waiting: ClaimedDelivery[] = [];
  for (const [index, row] of rows.entries()) {
    const route = routes[index];
    if (route?.providerToken != null && (await canSend(context, row.bundleid, route.provider))) {
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
    const dueAt = Math.min(row.expires_at, now + context.settings.unreachableRecheckMs);
    const ids = waitUntil.get(dueAt);
    if (ids === undefined) waitUntil.set(dueAt, [row.id]);
    else ids.push(row.id);
  }
  for (const [dueAt, ids] of waitUntil) await markWaiting(context.db, ids, dueAt, now);
  if (moved.length === 0) return;
  await recordRoutes(context.db, moved, now);
  const groups = new Map<string, ClaimedDelivery[]>();
  for (const row of moved) {
    const group = groups.get(row.provider);
    if (group === undefined) groups.set(row.provider, [row]);
    else group.push(row);
  }
  await Promise.all([...groups.values()].map((group) => context.deliverNow(group)));
}

/** Whether deliveries of this app can go through `provider` now. */
async function canSend(context: WorkerContext, bundleid: string, provider: string): Promise<boolean> {
  if (context.direct?.[provider] !== undefined) return true;
  if (context.catalogue[provider] === undefined) return false;
  const app = await context.apps.load(bundleid);
  return app !== undefined && (app.mode === 'inbox' || app.providers[provider] !== undefined);
}
