import type { Executor, RegistrationsTable } from '../db/schema.js';

export type Channel = RegistrationsTable['channel'];
export type RegistrationRow = Omit<RegistrationsTable, 'seq'> & { seq: number };
export type NewRegistration = Omit<RegistrationRow, 'seq'>;

/**
 * One statement: a push token already on this channel is updated in place and moves to the
 * caller (a phone that changed accounts), otherwise a row is added.
 */
export async function upsertRegistration(db: Executor, registration: NewRegistration): Promise<void> {
  const { created_at: _created, channel: _channel, push_token: _token, ...changes } = registration;
  await db
    .insertInto('registrations')
    .values(registration)
    .onConflict((conflict) => conflict.columns(['channel', 'push_token']).doUpdateSet(changes))
    .execute();
}

/** Keeps the user's `keep` most recently registered rows on the channel. */
export async function trimRegistrations(db: Executor, userId: number, channel: Channel, keep: number) {
  await db
    .deleteFrom('registrations')
    .where(
      'seq',
      'in',
      db
        .selectFrom('registrations')
        .select('seq')
        .where('user_id', '=', userId)
        .where('channel', '=', channel)
        .orderBy('updated_at', 'desc')
        .orderBy('seq', 'desc')
        // SQLite accepts OFFSET only after a LIMIT; PostgreSQL rejects a negative one.
        .limit(1_000_000_000)
        .offset(keep),
    )
    .execute();
}

export function listRegistrations(
  db: Executor,
  userId: number,
  channel: Channel,
): Promise<RegistrationRow[]> {
  return db
    .selectFrom('registrations')
    .selectAll()
    .where('user_id', '=', userId)
    .where('channel', '=', channel)
    .orderBy('seq')
    .execute();
}

export function findRegistration(
  db: Executor,
  userId: number,
  channel: Channel,
  seq: number,
): Promise<RegistrationRow | undefined> {
  return db
    .selectFrom('registrations')
    .selectAll()
    .where('seq', '=', seq)
    .where('user_id', '=', userId)
    .where('channel', '=', channel)
    .executeTakeFirst();
}

export async function updateRegistration(
  db: Executor,
  seq: number,
  changes: Partial<Omit<RegistrationRow, 'seq' | 'user_id' | 'channel' | 'created_at'>>,
): Promise<void> {
  await db.updateTable('registrations').set(changes).where('seq', '=', seq).execute();
}

/** Removes the row holding `pushToken` on the channel, unless it is row `exceptSeq`. */
export async function deleteRegistrationByToken(
  db: Executor,
  channel: Channel,
  pushToken: string,
  exceptSeq: number,
) {
  await db
    .deleteFrom('registrations')
    .where('channel', '=', channel)
    .where('push_token', '=', pushToken)
    .where('seq', '!=', exceptSeq)
    .execute();
}

export async function deleteRegistration(db: Executor, userId: number, channel: Channel, seq: number) {
  const result = await db
    .deleteFrom('registrations')
    .where('seq', '=', seq)
    .where('user_id', '=', userId)
    .where('channel', '=', channel)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

export async function deleteRegistrationsOfUser(
  db: Executor,
  userId: number,
  channel?: Channel,
): Promise<number> {
  let query = db.deleteFrom('registrations').where('user_id', '=', userId);
  if (channel !== undefined) query = query.where('channel', '=', channel);
  const result = await query.executeTakeFirst();
  return Number(result.numDeletedRows);
}

export async function deleteRegistrationsOfSessions(
  db: Executor,
  sessionIds: readonly string[],
): Promise<void> {
  if (sessionIds.length === 0) return;
  await db.deleteFrom('registrations').where('session_id', 'in', sessionIds).execute();
}
