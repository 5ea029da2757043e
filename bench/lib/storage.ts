import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createDatabase, type DatabaseHandle, type Dialect } from '../../src/db/database.js';

/** A benchmark's own database: a temporary SQLite directory or a fresh PostgreSQL schema. */
export interface Storage {
  /** The server's environment for this database. */
  env: Record<string, string | undefined>;
  open(): DatabaseHandle;
  describe: string;
  /** Deletes the database (schema or directory); safe to call twice. */
  drop(): Promise<void>;
}

export async function prepareStorage(
  dialect: Dialect,
  options: { name: string; postgresUrl: string; postgresOptions?: string; poolSize: number },
): Promise<Storage> {
  // Files the server keeps beside its database (the push socket's certificate) go here too.
  const dir = mkdtempSync(join(tmpdir(), `bellhop-${options.name}-`));
  if (dialect === 'sqlite') {
    const file = join(dir, 'bellhop.db');
    return {
      env: { DATA_DIR: dir, DATABASE_URL: undefined },
      open: () => createDatabase({ dialect: 'sqlite', file }),
      describe: `SQLite file ${file}`,
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const base = options.postgresUrl;
  const schema = `bh_${options.name}_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  try {
    await admin.connect();
    await admin.query(`create schema ${schema}`);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  } finally {
    await admin.end().catch(() => {});
  }
  let dropped = false;
  const drop = async () => {
    if (dropped) return;
    dropped = true;
    rmSync(dir, { recursive: true, force: true });
    const cleaner = new pg.Client({ connectionString: base, connectionTimeoutMillis: 5_000 });
    await cleaner.connect();
    await cleaner.query(`drop schema if exists ${schema} cascade`);
    await cleaner.end();
  };
  // src/config.ts takes a plain URL; node-postgres reads `options` from its query string.
  const separator = base.includes('?') ? '&' : '?';
  const settings = `-c search_path=${schema} ${options.postgresOptions ?? ''}`.trim();
  const url = `${base}${separator}options=${encodeURIComponent(settings)}`;
  const check = new pg.Client({ connectionString: url });
  await check.connect();
  const shown = (await check.query<{ search_path: string }>('show search_path')).rows[0]?.search_path;
  await check.end();
  if (shown !== schema) {
    await drop();
    throw new Error(`DATABASE_URL options did not set search_path (got ${shown})`);
  }
  return {
    env: { DATABASE_URL: url, DATA_DIR: dir },
    open: () => createDatabase({ dialect: 'postgres', url: base, poolSize: options.poolSize, schema }),
    describe: `PostgreSQL schema ${schema} (${base})`,
    drop,
  };
}
