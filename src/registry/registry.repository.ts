import { CompiledQuery, type QueryResult, type RawBuilder, sql } from 'kysely';
import { executeCompiled, prepareOnPostgres, type RunStatement } from '../db/database.js';
import type { Executor, RegistrationsTable } from '../db/schema.js';

export type Channel = RegistrationsTable['channel'];
export type RegistrationRow = Omit<RegistrationsTable, 'seq'> & { seq: number };
export type NewRegistration = Omit<RegistrationRow, 'seq'>;

/** The columns an upsert writes, in the order of its parameters. */
const upsertColumns = [
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

/** The columns an upsert changes in a row that already holds the token. */
const upsertChangedColumns = upsertColumns.filter(
  (column) => column !== 'channel' && column !== 'push_token' && column !== 'created_at',
);
const upsertChanges = sql.raw(
  upsertChangedColumns.map((column) => `${column} = excluded.${column}`).join(', '),
);

/** A registration's identity: one row per push token and channel. */
export function registrationKey(registration: { channel: string; push_token: string }): string {
  return `${registration.channel}\u0000${registration.push_token}`;
}

/** Whose row an upsert may change; a row of anyone else is left alone (nothing returned). */
export type UpsertScope =
  /** Only a row of the same user and session: the columns that identify the owner stay as they are. */
  | 'same-session'
  /** Only a row of the same user: its session becomes the caller's. */
  | 'same-user'
  /** Any row: the token moves to the caller (a phone that changed accounts). */
  | 'any';

/**
 * One statement: a push token already on this channel is updated in place, otherwise a row is
 * added. Returns the row's `created_at`, which equals the new `updated_at` only for a row just
 * added, or nothing when `scope` left the row alone.
 *
 * Written as one SQL text rather than with the query builder, and compiled once: it is the
 * hottest write of the API. The same text is valid in SQLite and PostgreSQL. The narrow scopes
 * exist for SQLite, which rewrites the entries of every index holding a column the statement
 * sets (owner, session), changed or not: a phone re-registering its token in the same session
 * then writes the row alone.
 */
export async function upsertRegistration(
  db: Executor,
  registration: NewRegistration,
  scope: UpsertScope,
): Promise<{ created_at: number } | undefined> {
  const { text, parameters } = upsertStatement(db, registration, scope);
  const createdAt = createdAtOf(await executeCompiled(db, text, parameters));
  return createdAt === undefined ? undefined : { created_at: createdAt };
}

/** A compiled statement and its parameters. */
interface Statement {
  text: string;
  parameters: unknown[];
}

function upsertStatement(db: Executor, registration: NewRegistration, scope: UpsertScope): Statement {
  return { text: upsertText(db, scope), parameters: upsertColumns.map((column) => registration[column]) };
}

/** The `created_at` of a statement's first row, if it returned one. */
function createdAtOf(result: QueryResult<unknown>): number | undefined {
  const row = result.rows[0] as { created_at: number } | undefined;
  return row === undefined ? undefined : Number(row.created_at);
}

/** Columns a re-registration compares; owner and route included, times not. */
const comparedColumns = upsertColumns.filter((column) => column !== 'created_at' && column !== 'updated_at');
const nullableColumns: ReadonlySet<string> = new Set(['session_id', 'provider_token', 'apns_environment']);

/**
 * Row `r` holds `value(column)` in every compared column. `=` where a column cannot be null:
 * PostgreSQL finds rows by an index only through `=`.
 */
function holdsValues(value: (column: (typeof comparedColumns)[number]) => RawBuilder<unknown>) {
  return sql.join(
    comparedColumns.map((column) =>
      nullableColumns.has(column)
        ? sql`r.${sql.ref(column)} is not distinct from ${value(column)}`
        : sql`r.${sql.ref(column)} = ${value(column)}`,
    ),
    sql` and `,
  );
}

/**
 * Finds the row's `created_at` when the row for this token already holds exactly these values
 * (same user, same session, same fields) and was written at or after `writtenSince`:
 * re-registering it would change nothing but its time, so it is not written. Apps re-register
 * their token at every start; most registrations are this case.
 */
function findUnchangedStatement(
  db: Executor,
  registration: NewRegistration,
  writtenSince: number,
): Statement {
  const text = compiledOnce(db, 'find_unchanged_registration', () => {
    const parameter = () => sql`${null}`;
    return sql`select r.created_at from registrations r where ${holdsValues(parameter)} and r.updated_at >= ${0}`;
  });
  const parameters: unknown[] = comparedColumns.map((column) => registration[column]);
  parameters.push(writtenSince);
  return { text, parameters };
}

/**
 * SQLite: the own-token upsert of `upsertOwnRegistrations` for one registration, its statements
 * run at once by `run` (one unit of work of the group-commit driver). An unchanged row written
 * at or after `writtenSince` is left alone (`undefined`: always written). Returns `undefined`
 * when another user holds the token, else the row's `created_at` and, for a row just added,
 * the user's row count on the channel after it.
 */
export function upsertOwnRegistrationNow(
  run: RunStatement,
  db: Executor,
  registration: NewRegistration,
  writtenSince: number | undefined,
): { createdAt: number; rowsAfter?: number } | undefined {
  const runStatement = ({ text, parameters }: Statement) => run(text, parameters);
  if (writtenSince !== undefined) {
    const unchangedSince = createdAtOf(runStatement(findUnchangedStatement(db, registration, writtenSince)));
    if (unchangedSince !== undefined) return { createdAt: unchangedSince };
  }
  // The common case first: the same phone in the same session.
  const createdAt =
    createdAtOf(runStatement(upsertStatement(db, registration, 'same-session'))) ??
    createdAtOf(runStatement(upsertStatement(db, registration, 'same-user')));
  if (createdAt === undefined) return undefined;
  if (createdAt !== registration.updated_at) return { createdAt };
  const counted = runStatement(countStatement(db, registration.user_id, registration.channel));
  return { createdAt, rowsAfter: countOf(counted) };
}

/**
 * PostgreSQL only: the own-token upsert of `upsertRegistration` for many registrations (no
 * token twice) in one statement, rows passed as one JSON parameter. A row that already holds
 * exactly the registration and was written at or after `writtenSince` is left alone, as
 * the SQLite `upsertOwnRegistrationNow` does. Rows are written in token order, so that two batches
 * sharing tokens lock them in the same order (no deadlock). Returns, per registration,
 * `undefined` when another user holds the token, else the row's `created_at` and, for a row
 * just added, the user's row count on the channel after the statement.
 */
export async function upsertOwnRegistrations(
  db: Executor,
  registrations: readonly NewRegistration[],
  writtenSince: number,
): Promise<Array<{ createdAt: number; rowsAfter?: number } | undefined>> {
  const text = compiledOnce(db, 'upsert_own_registrations', () => {
    const columns = sql.raw(upsertColumns.join(', '));
    const unchanged = holdsValues((column) => sql`i.${sql.ref(column)}`);
    // The lookup of an unchanged row is a scalar subquery, run per row through the unique index
    // whatever the planner believes of the table's size (a join may be planned as a scan, and a
    // prepared statement keeps the plan made while the table was small).
    // A subquery, in RETURNING or in a CTE, sees the table as it was before the statement.
    return sql`
    with input as (
      select i.*, (
        select r.created_at from registrations r
        where r.channel = i.channel and r.push_token = i.push_token and ${unchanged}
        and r.updated_at >= ${0}
      ) as unchanged_since
      from json_populate_recordset(null::registrations, ${''}::json) i
    ), written as (
      insert into registrations (${columns})
      select ${columns} from input where unchanged_since is null
      order by channel, push_token
      on conflict (channel, push_token) do update set ${upsertChanges}
      where registrations.user_id = excluded.user_id
      returning channel, push_token, created_at, case when created_at = updated_at then (
        select count(*) from registrations mine
        where mine.user_id = registrations.user_id and mine.channel = registrations.channel
      ) end as rows_before
    )
    select channel, push_token, created_at, rows_before from written
    union all
    select channel, push_token, unchanged_since, null from input where unchanged_since is not null`;
  });
  const result = await db.executeQuery<{
    channel: string;
    push_token: string;
    created_at: number;
    rows_before: number | null;
  }>(CompiledQuery.raw(text, [writtenSince, JSON.stringify(registrations)]));
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
 * A statement's SQL, compiled once per dialect (building it is most of a small query's cost)
 * and run as a named prepared statement on PostgreSQL.
 */
const compiledTexts = new WeakMap<object, Map<string, string>>();

function compiledOnce(db: Executor, name: string, build: () => { compile(db: Executor): { sql: string } }) {
  const adapter = db.getExecutor().adapter;
  let texts = compiledTexts.get(adapter.constructor);
  if (texts === undefined) {
    texts = new Map();
    compiledTexts.set(adapter.constructor, texts);
  }
  let text = texts.get(name);
  if (text === undefined) {
    text = build().compile(db).sql;
    texts.set(name, text);
    prepareOnPostgres(text, `bellhop_${name}`);
  }
  return text;
}

function countStatement(db: Executor, userId: number, channel: Channel): Statement {
  const text = compiledOnce(
    db,
    'count_registrations',
    () => sql`select count(*) as n from registrations where user_id = ${0} and channel = ${''}`,
  );
  return { text, parameters: [userId, channel] };
}

function countOf(result: QueryResult<unknown>): number {
  return Number((result.rows[0] as { n: number } | undefined)?.n ?? 0);
}

function upsertText(db: Executor, scope: UpsertScope): string {
  return compiledOnce(db, `upsert_registration_${scope.replace('-', '_')}`, () => {
    const placeholders = sql.join(upsertColumns.map(() => sql`${null}`));
    const ownerColumns: readonly string[] = ['user_id', 'session_id'];
    const changes =
      scope === 'same-session'
        ? sql.raw(
            upsertChangedColumns
              .filter((column) => !ownerColumns.includes(column))
              .map((column) => `${column} = excluded.${column}`)
              .join(', '),
          )
        : upsertChanges;
    const condition = {
      'same-session': sql`where registrations.user_id = excluded.user_id and registrations.session_id = excluded.session_id`,
      'same-user': sql`where registrations.user_id = excluded.user_id`,
      any: sql``,
    }[scope];
    return sql`
    insert into registrations (${sql.raw(upsertColumns.join(', '))})
    values (${placeholders})
    on conflict (channel, push_token) do update set ${changes}
    ${condition}
    returning created_at`;
  });
}

/**
 * Keeps the user's `keep` most recently registered rows on the channel. Counting first keeps
 * the common case (under the limit) a read.
 */
export async function trimRegistrations(db: Executor, userId: number, channel: Channel, keep: number) {
  const { text, parameters } = countStatement(db, userId, channel);
  if (countOf(await executeCompiled(db, text, parameters)) <= keep) return;
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
