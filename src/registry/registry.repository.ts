import { CompiledQuery, sql } from 'kysely';
import { prepareOnPostgres } from '../db/database.js';
import type { Executor, RegistrationsTable } from '../db/schema.js';

export type Channel = RegistrationsTable['channel'];
export type RegistrationRow = Omit<RegistrationsTable, 'seq'> & { seq: number };
export type NewRegistration = Omit<RegistrationRow, 'seq'>;

/**
 * One statement: a push token already on this channel is updated in place, otherwise a row is
 * added. With `onlyIfOwn`, a row that belongs to another user is left alone and nothing is
 * returned; without it the token moves to the caller (a phone that changed accounts). Returns
 * the row's `created_at`, which equals the new `updated_at` only for a row just added.
 *
 * Written as one SQL text rather than with the query builder, and compiled once: it is the
 * hottest write of the API. The same text is valid in SQLite and PostgreSQL.
 */
export async function upsertRegistration(
  db: Executor,
  registration: NewRegistration,
  options: { onlyIfOwn: boolean },
): Promise<{ created_at: number } | undefined> {
  const r = registration;
  const values = [
    r.user_id,
    r.session_id,
    r.channel,
    r.push_token,
    r.language,
    r.dev,
    r.bundleid,
    r.os,
    r.os_token,
    r.push_platform,
    r.phone_model,
    r.provider,
    r.provider_token,
    r.apns_environment,
    r.created_at,
    r.updated_at,
  ];
  const result = await db.executeQuery<{ created_at: number }>(
    CompiledQuery.raw(upsertText(db, options.onlyIfOwn), values),
  );
  const row = result.rows[0];
  return row === undefined ? undefined : { created_at: Number(row.created_at) };
}

/**
 * A statement's SQL, compiled once per dialect (building it is most of a small query's cost)
 * and run as a named prepared statement on PostgreSQL.
 */
const compiledTexts = new Map<string, string>();

function compiledOnce(db: Executor, name: string, build: () => { compile(db: Executor): { sql: string } }) {
  const key = `${db.getExecutor().adapter.constructor.name} ${name}`;
  let text = compiledTexts.get(key);
  if (text === undefined) {
    text = build().compile(db).sql;
    compiledTexts.set(key, text);
    prepareOnPostgres(text, `bellhop_${name}`);
  }
  return text;
}

function upsertText(db: Executor, onlyIfOwn: boolean): string {
  return compiledOnce(db, `upsert_registration${onlyIfOwn ? '_own' : ''}`, () => {
    const placeholders = sql.join(Array.from({ length: 16 }, () => sql`${null}`));
    return sql`
    insert into registrations (user_id, session_id, channel, push_token, language, dev, bundleid, os, os_token,
      push_platform, phone_model, provider, provider_token, apns_environment, created_at, updated_at)
    values (${placeholders})
    on conflict (channel, push_token) do update set
      user_id = excluded.user_id, session_id = excluded.session_id, language = excluded.language,
      dev = excluded.dev, bundleid = excluded.bundleid, os = excluded.os, os_token = excluded.os_token,
      push_platform = excluded.push_platform, phone_model = excluded.phone_model, provider = excluded.provider,
      provider_token = excluded.provider_token, apns_environment = excluded.apns_environment,
      updated_at = excluded.updated_at
    ${onlyIfOwn ? sql`where registrations.user_id = excluded.user_id` : sql``}
    returning created_at`;
  });
}

/**
 * Keeps the user's `keep` most recently registered rows on the channel. Counting first keeps
 * the common case (under the limit) a read.
 */
export async function trimRegistrations(db: Executor, userId: number, channel: Channel, keep: number) {
  const text = compiledOnce(
    db,
    'count_registrations',
    () => sql`select count(*) as n from registrations where user_id = ${0} and channel = ${''}`,
  );
  const counted = await db.executeQuery<{ n: number }>(CompiledQuery.raw(text, [userId, channel]));
  if (Number(counted.rows[0]?.n ?? 0) <= keep) return;
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
