import type { DeliveriesTable, Executor, NotificationsTable } from '../db/schema.js';

const chunk = <T>(items: readonly T[], size: number): T[][] => {
  const chunks: T[][] = [];
  for (let index = 0; index < items.length; index += size) chunks.push(items.slice(index, index + size));
  return chunks;
};

export async function insertNotification(db: Executor, notification: NotificationsTable): Promise<void> {
  await db.insertInto('notifications').values(notification).execute();
}

/** The targets a notification reached, when its deliveries are stored. */
export async function setNotificationTargets(db: Executor, id: string, targets: number): Promise<void> {
  await db.updateTable('notifications').set({ targets }).where('id', '=', id).execute();
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

/** A ring called off: marked cancelled, its deliveries not yet made fail as `cancelled`. */
export async function markRingCancelled(db: Executor, id: string, now: number): Promise<void> {
  await db.updateTable('notifications').set({ cancelled_at: now }).where('id', '=', id).execute();
  await db
    .updateTable('deliveries')
    .set({ status: 'failed', reason: 'cancelled', due_at: null, updated_at: now })
    .where('notification_id', '=', id)
    .where('status', 'in', ['queued', 'retrying'])
    .execute();
}

export function findSentDeliveries(db: Executor, notificationId: string) {
  return db
    .selectFrom('deliveries')
    .selectAll()
    .where('notification_id', '=', notificationId)
    .where('status', '=', 'sent')
    .execute();
}

/**
 * Makes the deliveries waiting for these devices (`offline`) on `provider` due now; returns
 * their ids.
 */
export async function makeWaitingDue(
  db: Executor,
  provider: string,
  tokens: readonly string[],
  now: number,
): Promise<string[]> {
  const ids: string[] = [];
  for (const part of chunk(tokens, 500)) {
    const rows = await db
      .updateTable('deliveries')
      .set({ due_at: now, updated_at: now })
      .where('provider', '=', provider)
      .where('token', 'in', part)
      .where('status', '=', 'retrying')
      .where('reason', '=', 'offline')
      .returning('id')
      .execute();
    for (const row of rows) ids.push(row.id);
  }
  return ids;
}

/** An app's inbox, newest first, paged by entry id. */
export function listInbox(
  db: Executor,
  bundleid: string,
  page: { before?: number | undefined; limit: number },
) {
  let query = db.selectFrom('inbox').selectAll().where('bundleid', '=', bundleid);
  if (page.before !== undefined) query = query.where('id', '<', page.before);
  return query.orderBy('id', 'desc').limit(page.limit).execute();
}

export type DeliveryRow = DeliveriesTable;
