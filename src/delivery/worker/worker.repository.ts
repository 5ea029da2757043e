import type { DeliveryStatus, Executor, InboxTable } from '../../db/schema.js';
import type { RetryOutcome } from './outcomes.js';

/** A delivery the worker holds (status `sending`), with what its notification says. */
export interface ClaimedDelivery {
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

/** Ids per statement: well under SQLite's and PostgreSQL's bound-parameter limits. */
const IDS_PER_STATEMENT = 500;
const INBOX_ROWS_PER_STATEMENT = 200;

function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let index = 0; index < items.length; index += size) yield items.slice(index, index + size);
}

/** The claimed deliveries among `ids` (still `sending`), with their notifications. */
export async function findClaimed(db: Executor, ids: readonly string[]): Promise<ClaimedDelivery[]> {
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
  if (deliveries.length === 0) return [];
  const notifications = await db
    .selectFrom('notifications')
    .select(['id', 'kind', 'channel', 'content', 'collapse_id', 'expires_at', 'created_at as accepted_at'])
    .where('id', 'in', [...new Set(deliveries.map((delivery) => delivery.notification_id))])
    .execute();
  const byId = new Map(notifications.map(({ id, ...notification }) => [id, notification]));
  return deliveries.flatMap((delivery) => {
    const notification = byId.get(delivery.notification_id);
    return notification === undefined ? [] : [{ ...delivery, ...notification }];
  });
}

export interface SettleOptions {
  now: number;
  /** A provider (or the inbox) saw the deliveries: one more attempt. */
  attempted: boolean;
  sentAt?: number | undefined;
  /** The provider's message id is the delivery id (APNs echoes the apns-id). */
  messageIdIsDeliveryId?: boolean | undefined;
}

/** Gives deliveries a final status. */
export async function settleDeliveries(
  db: Executor,
  ids: readonly string[],
  status: DeliveryStatus,
  reason: string | null,
  options: SettleOptions,
): Promise<void> {
  for (const part of chunks(ids, IDS_PER_STATEMENT)) {
    await db
      .updateTable('deliveries')
      .set((eb) => ({
        status,
        reason,
        due_at: null,
        updated_at: options.now,
        sent_at: options.sentAt ?? null,
        ...(options.messageIdIsDeliveryId === true ? { provider_message_id: eb.ref('id') } : {}),
        ...(options.attempted ? { attempts: eb('attempts', '+', 1) } : {}),
      }))
      .where('id', 'in', part)
      .execute();
  }
}

/**
 * Records sends the provider answered with a message id of its own: one statement per id, as a
 * list call (vivo's taskId, a MiPush batch) answers every delivery of a fan-out with one id.
 */
export async function recordSentWithIds(
  db: Executor,
  sent: ReadonlyArray<{ row: Pick<ClaimedDelivery, 'id'>; messageId: string }>,
  now: number,
): Promise<void> {
  if (sent.length === 0) return;
  const byMessage = new Map<string, string[]>();
  for (const { row, messageId } of sent) {
    const ids = byMessage.get(messageId);
    if (ids === undefined) byMessage.set(messageId, [row.id]);
    else ids.push(row.id);
  }
  await db.transaction().execute(async (trx) => {
    for (const [messageId, ids] of byMessage) {
      for (const part of chunks(ids, IDS_PER_STATEMENT)) {
        await trx
          .updateTable('deliveries')
          .set((eb) => ({
            status: 'sent',
            reason: null,
            due_at: null,
            updated_at: now,
            sent_at: now,
            provider_message_id: messageId,
            attempts: eb('attempts', '+', 1),
          }))
          .where('id', 'in', part)
          .execute();
      }
    }
  });
}

/** Records attempts to go again (or not, when out of attempts or time). */
export async function recordRetries(
  db: Executor,
  retries: ReadonlyArray<RetryOutcome<Pick<ClaimedDelivery, 'id'>>>,
  now: number,
): Promise<void> {
  if (retries.length === 0) return;
  await db.transaction().execute(async (trx) => {
    for (const { row, reason, attempts, status, dueAt } of retries) {
      await trx
        .updateTable('deliveries')
        .set({ status, reason, attempts, updated_at: now, due_at: dueAt })
        .where('id', '=', row.id)
        .execute();
    }
  });
}

/** Deliveries that wait for their device (`offline`), due again at `dueAt`. Not an attempt. */
export async function markWaiting(
  db: Executor,
  ids: readonly string[],
  dueAt: number,
  now: number,
): Promise<void> {
  for (const part of chunks(ids, IDS_PER_STATEMENT)) {
    await db
      .updateTable('deliveries')
      .set({ status: 'retrying', reason: 'offline', updated_at: now, due_at: dueAt })
      .where('id', 'in', part)
      .execute();
  }
}

/** Deliveries moved to another route: the record names the provider that now carries them. */
export async function recordRoutes(
  db: Executor,
  moved: ReadonlyArray<Pick<ClaimedDelivery, 'id' | 'provider' | 'token' | 'environment'>>,
  now: number,
): Promise<void> {
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
}

export async function insertInboxEntries(
  db: Executor,
  entries: ReadonlyArray<Omit<InboxTable, 'id'>>,
): Promise<void> {
  for (const part of chunks(entries, INBOX_ROWS_PER_STATEMENT)) {
    await db.insertInto('inbox').values(part).execute();
  }
}

/** Deletes notifications (with their deliveries) and inbox entries created before `before`. */
export async function pruneBefore(db: Executor, before: number): Promise<void> {
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
}

/** Deliveries not yet final: queued, waiting to go again, or being sent. */
export async function countPending(db: Executor): Promise<number> {
  const row = await db
    .selectFrom('deliveries')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('status', 'in', ['queued', 'retrying', 'sending'])
    .executeTakeFirst();
  return Number(row?.count ?? 0);
}
