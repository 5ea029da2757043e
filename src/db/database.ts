import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import type { DatabaseConfig } from '../config.js';
import type { Database } from './schema.js';

export type Dialect = DatabaseConfig['dialect'];

export interface DatabaseHandle {
  db: Kysely<Database>;
  dialect: Dialect;
  /** The PostgreSQL schema in use, when one is configured. */
  schema: string | undefined;
  /** A cheap round trip, for readiness checks. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

// BIGINT (int8) holds millisecond timestamps and ids, all far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

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

function openSqlite(file: string): SQLite.Database {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const database = new SQLite(file);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  return database;
}

export interface DatabaseOptions {
  /** Told when an idle PostgreSQL connection breaks; the pool replaces it by itself. */
  onConnectionError?: (error: Error) => void;
}

export function createDatabase(config: DatabaseConfig, options: DatabaseOptions = {}): DatabaseHandle {
  if (config.dialect === 'sqlite') {
    const db = new Kysely<Database>({
      dialect: new SqliteDialect({ database: withStatementCache(openSqlite(config.file)) }),
    });
    return {
      db,
      dialect: 'sqlite',
      schema: undefined,
      ping: async () => {
        await sql`select 1`.execute(db);
      },
      close: () => db.destroy(),
    };
  }
  const pool = new pg.Pool({
    connectionString: config.url,
    max: config.poolSize,
    connectionTimeoutMillis: 5_000,
    ...(config.schema === undefined ? {} : { options: `-c search_path=${config.schema}` }),
  });
  // An idle client that loses its server connection emits 'error' on the pool; without a
  // listener that would crash the process instead of letting the pool reconnect.
  pool.on('error', (error) => options.onConnectionError?.(error));
  // A client checked out of the pool (between two queries of a transaction) that loses its
  // server connection emits 'error' on itself: the query in progress fails, the process stays.
  pool.on('connect', (client) => {
    client.on('error', (error) => options.onConnectionError?.(error));
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    dialect: 'postgres',
    schema: config.schema,
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}
