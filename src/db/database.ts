import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { CompiledQuery, Kysely, PostgresAdapter, PostgresDialect, type QueryResult, sql } from 'kysely';
import pg from 'pg';
import type { DatabaseConfig } from '../config.js';
import {
  bindByName,
  type NamedStatement,
  preparedStatementName,
  type StatementValues,
} from './named-statement.js';
import type { Database, Executor } from './schema.js';
import { startCheckpointer } from './sqlite-checkpointer.js';
import { GroupCommitSqliteDialect, type RunStatement } from './sqlite-driver.js';

export type { RunStatement } from './sqlite-driver.js';

export type Dialect = DatabaseConfig['dialect'];

export interface DatabaseHandle {
  db: Kysely<Database>;
  /**
   * For writes a client repeats when they are lost (push-token registrations): on PostgreSQL its
   * connections commit without waiting for the WAL flush (`synchronous_commit = off`), so a
   * crash of the database server can lose the last fraction of a second of them, and nothing
   * else. Durable as usual on SQLite (the same handle as `db`).
   */
  relaxed: Kysely<Database>;
  dialect: Dialect;
  /** The PostgreSQL schema in use, when one is configured. */
  schema: string | undefined;
  /** A cheap round trip, for readiness checks. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

// BIGINT (int8) holds millisecond timestamps and ids, all far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

const directRunners = new WeakMap<
  object,
  (text: string, parameters: readonly unknown[]) => Promise<QueryResult<unknown>>
>();

/**
 * A named statement on `db`. On SQLite (outside a transaction) it goes straight to the
 * group-commit driver: Kysely's connection handling is several promises per query, a cost the
 * API's hottest statements (a phone re-registering its token) do without. Elsewhere, and in a
 * transaction, through Kysely as usual; on PostgreSQL as a prepared statement of its own.
 */
export function executeNamed<Row, Name extends string>(
  db: Executor,
  statement: NamedStatement<Name>,
  values: StatementValues<Name>,
): Promise<QueryResult<Row>> {
  const run = directRunners.get(db);
  if (run !== undefined) {
    return run(statement.sqlite, bindByName(statement.sqliteNames, values)) as Promise<QueryResult<Row>>;
  }
  const query =
    db.getExecutor().adapter instanceof PostgresAdapter
      ? CompiledQuery.raw(statement.postgres, bindByName(statement.postgresNames, values))
      : CompiledQuery.raw(statement.sqlite, bindByName(statement.sqliteNames, values));
  return db.executeQuery<Row>(query);
}

/** Runs statements that depend on each other's answers as one unit of the SQLite driver's group. */
export type GroupedWorkRunner = <T>(work: (run: RunStatement) => T) => Promise<T>;

const groupedWorkRunners = new WeakMap<object, GroupedWorkRunner>();

/**
 * On SQLite (outside a transaction), runs `work` within one commit group of the driver: a
 * request whose statements each wait for the last one's answer then waits for one group, not
 * one per statement. `undefined` on PostgreSQL, where each statement is a round trip anyway.
 */
export function groupedWorkOf(db: Executor): GroupedWorkRunner | undefined {
  return groupedWorkRunners.get(db);
}

/**
 * Runs the texts of named statements as server-side prepared statements: parsed and planned
 * once per connection instead of on every call. Only those, so that the prepared statements
 * per connection stay few; each connection keeps its own.
 */
class PreparingClient extends pg.Client {
  // biome-ignore lint/suspicious/noExplicitAny: pg's query has many overloads; this adds a case.
  override query(config: any, values?: any, callback?: any): any {
    const name =
      typeof config === 'string' && callback === undefined ? preparedStatementName(config) : undefined;
    if (name === undefined) return super.query(config, values, callback);
    return super.query({ name, text: config, values });
  }
}

/**
 * better-sqlite3 compiles a statement on every `prepare`; Kysely prepares on every query.
 * Keeping compiled statements by SQL text removes that work from the hot path.
 */
function withStatementCache(database: SQLite.Database, capacity = 500): SQLite.Database {
  const cache = new Map<string, SQLite.Statement>();
  return new Proxy(database, {
    get(target, property, receiver) {
      if (property !== 'prepare') return Reflect.get(target, property, receiver);
      return (text: string) => {
        // Lists of ids make a text per length: compiled statements of those would fill the cache
        // (and native memory) with texts that rarely come back.
        if (text.length > 2_000) return target.prepare(text);
        let statement = cache.get(text);
        if (statement === undefined) {
          statement = target.prepare(text);
          if (cache.size >= capacity) {
            const oldest = cache.keys().next().value;
            if (oldest !== undefined) cache.delete(oldest);
          }
          cache.set(text, statement);
        }
        return statement;
      };
    },
  });
}

/**
 * The database holds e-mail addresses, phone numbers and password hashes: its directory is
 * created for the owner alone and its files are the owner's alone, whatever the umask. SQLite
 * gives the -wal and -shm files the database file's permissions.
 */
function restrictFiles(file: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  closeSync(openSync(file, 'a', 0o600));
  for (const path of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(path)) chmodSync(path, 0o600);
}

function openSqlite(file: string): SQLite.Database {
  if (file !== ':memory:') restrictFiles(file);
  const database = new SQLite(file);
  database.pragma('journal_mode = WAL');
  // Deleted rows are overwritten with zeros, so that a deleted account's e-mail and phone do
  // not linger in free pages of the file (or of its copies and backups).
  database.pragma('secure_delete = ON');
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  // A log that a checkpoint emptied is cut back to this size rather than left at its peak.
  database.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
  return database;
}

export interface DatabaseOptions {
  /** Told when an idle PostgreSQL connection breaks; the pool replaces it by itself. */
  onConnectionError?: (error: Error) => void;
}

export function createDatabase(config: DatabaseConfig, options: DatabaseOptions = {}): DatabaseHandle {
  if (config.dialect === 'sqlite') {
    const database = openSqlite(config.file);
    let checkpointer: ReturnType<typeof startCheckpointer> | undefined;
    if (config.file !== ':memory:') {
      database.pragma('wal_autocheckpoint = 0');
      checkpointer = startCheckpointer(config.file);
    }
    const dialect = new GroupCommitSqliteDialect(withStatementCache(database));
    const db = new Kysely<Database>({ dialect });
    directRunners.set(db, (text, parameters) => dialect.runGrouped(text, parameters));
    groupedWorkRunners.set(db, (work) => dialect.runGroupedWork(work));
    return {
      db,
      relaxed: db,
      dialect: 'sqlite',
      schema: undefined,
      ping: async () => {
        await sql`select 1`.execute(db);
      },
      close: async () => {
        await checkpointer?.stop();
        await db.destroy();
      },
    };
  }
  // Bellhop's session settings are SET on each new connection, not passed as the `options`
  // startup parameter: node-postgres lets an `options` in DATABASE_URL replace that parameter
  // whole, so an operator's `?options=-c statement_timeout=…` used to drop them silently.
  const searchPath =
    config.schema === undefined ? [] : [`set search_path to "${config.schema.replaceAll('"', '""')}"`];
  const openPool = (settings: readonly string[], max: number) => {
    const statements = [...searchPath, ...settings].join('; ');
    const pool = new pg.Pool({
      connectionString: config.url,
      max,
      connectionTimeoutMillis: 5_000,
      Client: PreparingClient,
    });
    // An idle client that loses its server connection emits 'error' on the pool; without a
    // listener that would crash the process instead of letting the pool reconnect.
    pool.on('error', (error) => options.onConnectionError?.(error));
    pool.on('connect', (client) => {
      // A client checked out of the pool (between two queries of a transaction) that loses its
      // server connection emits 'error' on itself: the query in progress fails, the process stays.
      client.on('error', (error) => options.onConnectionError?.(error));
      // Queued before the query the connection was opened for, so that it runs first.
      if (statements !== '') {
        client.query(statements).catch((error: unknown) => {
          options.onConnectionError?.(error instanceof Error ? error : new Error(String(error)));
        });
      }
    });
    return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  };
  const db = openPool([], config.poolSize);
  const relaxed = openPool(['set synchronous_commit to off'], config.poolSize);
  return {
    db,
    relaxed,
    dialect: 'postgres',
    schema: config.schema,
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: async () => {
      await Promise.all([db.destroy(), relaxed.destroy()]);
    },
  };
}
