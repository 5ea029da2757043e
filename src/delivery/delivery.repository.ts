import type { DeliveriesTable, Executor, NotificationsTable } from '../db/schema.js';
import type { Channel } from '../registry/registry.repository.js';

const chunk = <T>(items: readonly T[], size: number): T[][] => {
  const chunks: T[][] = [];
  for (let index = 0; index < items.length; index += size) chunks.push(items.slice(index, index + size));
  return chunks;
};

/** Registrations of these users on the channel, optionally of one app. */
export async function findTargets(
  db: Executor,
  userIds: readonly number[],
  channel: Channel,
  bundleid?: string,
) {
  const rows = [];
  for (const ids of chunk([...new Set(userIds)], 1000)) {
    let query = db
      .selectFrom('registrations')
      .select(['seq', 'user_id', 'provider', 'provider_token', 'apns_environment', 'bundleid', 'language'])
      .where('user_id', 'in', ids)
      .where('channel', '=', channel);
    if (bundleid !== undefined) query = query.where('bundleid', '=', bundleid);
    rows.push(...(await query.execute()));
  }
  return rows;
}

export async function insertNotification(db: Executor, notification: NotificationsTable): Promise<void> {
  await db.insertInto('notifications').values(notification).execute();
}

export async function insertDeliveries(db: Executor, deliveries: readonly DeliveriesTable[]): Promise<void> {
  // Kept under SQLite's and PostgreSQL's bound-parameter limits.
  for (const rows of chunk(deliveries, 200)) await db.insertInto('deliveries').values(rows).execute();
}

/**
 * A notification and its few deliveries in one statement (a data-modifying CTE, PostgreSQL
 * only): atomic without a transaction's BEGIN and COMMIT round trips — the path of a ring.
 */
export async function insertNotificationWithDeliveries(
  db: Executor,
  notification: NotificationsTable,
  deliveries: readonly DeliveriesTable[],
): Promise<void> {
  if (deliveries.length === 0) {
    await insertNotification(db, notification);
    return;
  }
  await db
    .with('notification', (cte) => cte.insertInto('notifications').values(notification))
    .insertInto('deliveries')
    .values([...deliveries])
    .execute();
}

export function findNotification(db: Executor, id: string) {
  return db.selectFrom('notifications').selectAll().where('id', '=', id).executeTakeFirst();
}

export function findNotificationByIdempotencyKey(db: Executor, key: string) {
  return db.selectFrom('notifications').selectAll().where('idempotency_key', '=', key).executeTakeFirst();
}

export async function releaseIdempotencyKey(db: Executor, id: string): Promise<void> {
  await db.updateTable('notifications').set({ idempotency_key: null }).where('id', '=', id).execute();
}

export function listDeliveries(
  db: Executor,
  notificationId: string,
  options: { after?: string; limit: number },
) {
  let query = db.selectFrom('deliveries').selectAll().where('notification_id', '=', notificationId);
  if (options.after !== undefined) query = query.where('id', '>', options.after);
  return query.orderBy('id').limit(options.limit).execute();
}

export async function countDeliveriesByStatus(db: Executor, notificationId: string) {
  const rows = await db
    .selectFrom('deliveries')
    .select(['status', (eb) => eb.fn.countAll<number>().as('count')])
    .where('notification_id', '=', notificationId)
    .groupBy('status')
    .execute();
  return Object.fromEntries(rows.map((row) => [row.status, Number(row.count)]));
}

export type DeliveryRow = DeliveriesTable;
