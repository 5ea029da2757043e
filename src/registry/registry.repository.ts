import type { QueryResult } from 'kysely';
import { executeNamed } from '../db/database.js';
import {
  type NamedStatement,
  namedStatement,
  runNamedNow,
  type StatementValues,
} from '../db/named-statement.js';
import type { Executor, RegistrationsTable } from '../db/schema.js';
import type { RunStatement } from '../db/sqlite-driver.js';

export type Channel = RegistrationsTable['channel'];
export type RegistrationRow = Omit<RegistrationsTable, 'seq'> & { seq: number };
export type NewRegistration = Omit<RegistrationRow, 'seq'>;

/** The columns an upsert writes: every column of a row but its `seq`. */
export const upsertColumns = [
  'user_id',
  'session_id',
  'channel',
  'push_token',
  'language',
  'dev',
  'bundleid',
  'os',
  'os_token',
  'push_platform',
  'phone_model',
  'provider',
  'provider_token',
  'apns_environment',
  'created_at',
  'updated_at',
] as const satisfies ReadonlyArray<keyof NewRegistration>;
type UpsertColumn = (typeof upsertColumns)[number];

const columnList = upsertColumns.join(', ');
const changesOf = (columns: readonly UpsertColumn[]) =>
  columns.map((column) => `${column} = excluded.${column}`).join(', ');
/** The columns an upsert changes in a row that already holds the token. */
const changedColumns = upsertColumns.filter(
  (column) => column !== 'channel' && column !== 'push_token' && column !== 'created_at',
);

/** A registration's identity: one row per push token and channel. */
export function registrationKey(registration: { channel: string; push_token: string }): string {
  return `${registration.channel}\u0000${registration.push_token}`;
}

/**
 * A token already on this channel is updated in place, else a row is added; returns the row's
 * `created_at` (equal to `updated_at` only for a row just added), or nothing when `condition`
 * left the row alone. SQL text, not the query builder: building a query is most of a small
 * query's cost. The narrow conditions exist for SQLite, which rewrites the entries of every
 * index holding a column the statement sets (owner, session), changed or not.
 */
function upsertStatement(name: string, changes: readonly UpsertColumn[], condition: string) {
  return namedStatement(
    name,
    `insert into registrations (${columnList})
    values (${upsertColumns.map((column) => `@${column}`).join(', ')})
    on conflict (channel, push_token) do update set ${changesOf(changes)}
    ${condition}
    returning created_at`,
    upsertColumns,
  );
}

/** Only a row of the same user and session: the columns that identify the owner stay as they are. */
const upsertSameSession = upsertStatement(
  'upsert_registration_same_session',
  changedColumns.filter((column) => column !== 'user_id' && column !== 'session_id'),
  'where registrations.user_id = excluded.user_id and registrations.session_id = excluded.session_id',
);
/** Only a row of the same user: its session becomes the caller's. */
const upsertSameUser = upsertStatement(
  'upsert_registration_same_user',
  changedColumns,
  'where registrations.user_id = excluded.user_id',
);
/** Any row: the token moves to the caller (a phone that changed accounts). */
const upsertAny = upsertStatement('upsert_registration_any', changedColumns, '');

/** Columns a re-registration compares; owner and route included, times not. */
const comparedColumns = upsertColumns.filter((column) => column !== 'created_at' && column !== 'updated_at');
const nullableColumns: ReadonlySet<string> = new Set(['session_id', 'provider_token', 'apns_environment']);

/** Row `r` holds `value(column)` in every compared column; `=` where it can (PostgreSQL's index). */
function holdsValues(value: (column: UpsertColumn) => string): string {
  return comparedColumns
    .map((column) =>
      nullableColumns.has(column)
        ? `r.${column} is not distinct from ${value(column)}`
        : `r.${column} = ${value(column)}`,
    )
    .join(' and ');
}

/**
 * The row's `created_at` when it already holds exactly these values and was written at or after
 * `written_since`: rewriting it would change only its time. Apps re-register their token at
 * every start; most registrations are this case.
 */
const findUnchanged = namedStatement(
  'find_unchanged_registration',
  `select r.created_at from registrations r
  where ${holdsValues((column) => `@${column}`)} and r.updated_at >= @written_since`,
  [...comparedColumns, 'written_since'],
);
type UnchangedParameter = (typeof findUnchanged.sqliteNames)[number];

const countRegistrations = namedStatement(
  'count_registrations',
  'select count(*) as n from registrations where user_id = @user_id and channel = @channel',
  ['user_id', 'channel'],
);

/**
 * PostgreSQL only: `upsertOwnRegistrations`, the registrations as one JSON parameter. An
 * unchanged row is looked up by a scalar subquery, per row through the unique index (a join may
 * be planned as a scan, and a prepared statement keeps the plan made while the table was
 * small). A subquery, in RETURNING or in a CTE, sees the table as before the statement.
 */
const upsertOwnBatch = namedStatement(
  'upsert_own_registrations',
  `with input as (
    select i.*, (
      select r.created_at from registrations r
      where r.channel = i.channel and r.push_token = i.push_token and ${holdsValues((column) => `i.${column}`)}
      and r.updated_at >= @written_since
    ) as unchanged_since
    from json_populate_recordset(null::registrations, @registrations::json) i
  ), written as (
    insert into registrations (${columnList})
    select ${columnList} from input where unchanged_since is null
    order by channel, push_token
    on conflict (channel, push_token) do update set ${changesOf(changedColumns)}
    where registrations.user_id = excluded.user_id
    returning channel, push_token, created_at, case when created_at = updated_at then (
      select count(*) from registrations mine
      where mine.user_id = registrations.user_id and mine.channel = registrations.channel
    ) end as rows_before
  )
  select channel, push_token, created_at, rows_before from written
  union all
  select channel, push_token, unchanged_since, null from input where unchanged_since is not null`,
  ['written_since', 'registrations'],
);

/** The `created_at` of a statement's first row, if it returned one. */
function createdAtOf(result: QueryResult<unknown>): number | undefined {
  const row = result.rows[0] as { created_at: number } | undefined;
  return row === undefined ? undefined : Number(row.created_at);
}

const countOf = (result: QueryResult<unknown>) => Number((result.rows[0] as { n?: number })?.n ?? 0);

/** What became of an upsert of the caller's own token. */
export interface OwnUpsert {
  /** The row's `created_at`: equal to the upsert's `updated_at` only for a row just added. */
  createdAt: number;
  /** The user's rows on the channel right after the write, when the write could count them. */
  rowsAfter?: number | undefined;
}

/** Written out rather than spread: made on most requests, and a spread costs several times more. */
function unchangedValues(r: NewRegistration, writtenSince: number): StatementValues<UnchangedParameter> {
  return {
    user_id: r.user_id,
    session_id: r.session_id,
    channel: r.channel,
    push_token: r.push_token,
    language: r.language,
    dev: r.dev,
    bundleid: r.bundleid,
    os: r.os,
    os_token: r.os_token,
    push_platform: r.push_platform,
    phone_model: r.phone_model,
    provider: r.provider,
    provider_token: r.provider_token,
    apns_environment: r.apns_environment,
    written_since: writtenSince,
  };
}

/** A statement with its values, for a runner to run. */
interface Step {
  statement: NamedStatement<string>;
  values: StatementValues<string>;
}

function step<Name extends string>(statement: NamedStatement<Name>, values: StatementValues<Name>): Step {
  return { statement, values };
}

/**
 * The own-token upsert, once for both runners below: each statement is yielded, its result sent
 * back. An unchanged row written at or after `writtenSince` (`undefined`: none) is left alone.
 * `undefined` when another user holds the token, else the row's `created_at` and, for a row just
 * added, the user's row count on the channel after it.
 */
function* ownUpsertSteps(
  registration: NewRegistration,
  writtenSince: number | undefined,
): Generator<Step, OwnUpsert | undefined, QueryResult<unknown>> {
  if (writtenSince !== undefined) {
    const unchangedSince = createdAtOf(
      yield step(findUnchanged, unchangedValues(registration, writtenSince)),
    );
    if (unchangedSince !== undefined) return { createdAt: unchangedSince };
  }
  // The common case first: the same phone in the same session.
  const createdAt =
    createdAtOf(yield step(upsertSameSession, registration)) ??
    createdAtOf(yield step(upsertSameUser, registration));
  if (createdAt === undefined) return undefined;
  if (createdAt !== registration.updated_at) return { createdAt };
  return { createdAt, rowsAfter: countOf(yield step(countRegistrations, registration)) };
}

/**
 * SQLite: the own-token upsert with its statements run at once by `run`, as one unit of work
 * of the group-commit driver (as statements of their own, each would wait for a group).
 */
export function upsertOwnRegistrationNow(
  run: RunStatement,
  registration: NewRegistration,
  writtenSince: number | undefined,
): OwnUpsert | undefined {
  const steps = ownUpsertSteps(registration, writtenSince);
  let next = steps.next();
  while (next.done !== true) next = steps.next(runNamedNow(run, next.value.statement, next.value.values));
  return next.value;
}

/** The own-token upsert, statement by statement, on either database. */
export async function upsertOwnRegistration(
  db: Executor,
  registration: NewRegistration,
  writtenSince: number | undefined,
): Promise<OwnUpsert | undefined> {
  const steps = ownUpsertSteps(registration, writtenSince);
  let next = steps.next();
  while (next.done !== true)
    next = steps.next(await executeNamed(db, next.value.statement, next.value.values));
  return next.value;
}

/**
 * Writes the registration whoever holds its token: the token moves to the caller. Returns the
 * row's `created_at`.
 */
export async function takeOverRegistration(db: Executor, registration: NewRegistration): Promise<number> {
  const createdAt = createdAtOf(await executeNamed(db, upsertAny, registration));
  if (createdAt === undefined) throw new Error('an unconditional upsert returned no row');
  return createdAt;
}

/**
 * PostgreSQL only: the own-token upsert of many registrations (no token twice) in one
 * statement, with the answers of `upsertOwnRegistration`; `writtenSince` applies to all.
 * Rows are written in token order, so that two batches sharing tokens lock them in the same
 * order (no deadlock); a row added reports the user's count after the whole statement.
 */
export async function upsertOwnRegistrations(
  db: Executor,
  registrations: readonly NewRegistration[],
  writtenSince: number,
): Promise<Array<OwnUpsert | undefined>> {
  const result = await executeNamed<
    { channel: string; push_token: string; created_at: number; rows_before: number | null },
    'written_since' | 'registrations'
  >(db, upsertOwnBatch, { written_since: writtenSince, registrations: JSON.stringify(registrations) });
  const written = new Map(result.rows.map((row) => [registrationKey(row), row]));
  const addedPerUser = new Map<string, number>();
  const userKey = (registration: NewRegistration) => `${registration.user_id} ${registration.channel}`;
  for (const registration of registrations) {
    if (written.get(registrationKey(registration))?.rows_before != null) {
      const key = userKey(registration);
      addedPerUser.set(key, (addedPerUser.get(key) ?? 0) + 1);
    }
  }
  return registrations.map((registration) => {
    const row = written.get(registrationKey(registration));
    if (row === undefined) return undefined;
    const createdAt = Number(row.created_at);
    if (row.rows_before == null) return { createdAt };
    return { createdAt, rowsAfter: Number(row.rows_before) + (addedPerUser.get(userKey(registration)) ?? 0) };
  });
}

/**
 * Keeps the user's `keep` most recently registered rows on the channel. Counting first keeps
 * the common case (under the limit) a read.
 */
export async function trimRegistrations(db: Executor, userId: number, channel: Channel, keep: number) {
  const counted = await executeNamed(db, countRegistrations, { user_id: userId, channel });
  if (countOf(counted) <= keep) return;
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
