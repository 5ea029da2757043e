import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createDatabase, type DatabaseHandle } from '../../src/db/database.js';
import { testDialects } from '../helpers/app.js';

describe.skipIf(!testDialects().includes('postgres'))("Bellhop's PostgreSQL session settings", () => {
  const base = inject('postgresUrl');
  const schema = `bh_settings_${randomBytes(5).toString('hex')}`;
  const opened: DatabaseHandle[] = [];

  beforeAll(async () => {
    const admin = new pg.Client({ connectionString: base });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    await admin.end();
  });

  afterAll(async () => {
    await Promise.all(opened.map((handle) => handle.close()));
    const admin = new pg.Client({ connectionString: base });
    await admin.connect();
    await admin.query(`drop schema if exists ${schema} cascade`);
    await admin.end();
  });

  async function settingsOf(handle: DatabaseHandle['db']) {
    const result = await sql<{ commit: string; path: string; timeout: string }>`
      select current_setting('synchronous_commit') as commit, current_setting('search_path') as path,
             current_setting('statement_timeout') as timeout`.execute(handle);
    return result.rows[0];
  }

  const withOptions = (url: string, options: string) =>
    `${url}${url.includes('?') ? '&' : '?'}options=${encodeURIComponent(options)}`;

  it('keeps its own settings when DATABASE_URL carries `options` of its own, and applies those too', async () => {
    const url = withOptions(base, '-c statement_timeout=4321 -c search_path=public');
    const config = loadConfig({ DATABASE_URL: url });
    if (config.database.dialect !== 'postgres') throw new Error('not PostgreSQL');
    const handle = createDatabase({ ...config.database, schema, poolSize: 2 });
    opened.push(handle);
    // Registrations commit without waiting for the WAL flush; everything else waits.
    expect(await settingsOf(handle.relaxed)).toEqual({
      commit: 'off',
      path: schema,
      timeout: '4321ms',
    });
    expect(await settingsOf(handle.db)).toEqual({ commit: 'on', path: schema, timeout: '4321ms' });
  });

  it("leaves the URL's search_path alone when no schema is configured", async () => {
    const handle = createDatabase({
      dialect: 'postgres',
      url: withOptions(base, `-c search_path=${schema}`),
      poolSize: 2,
    });
    opened.push(handle);
    expect(await settingsOf(handle.relaxed)).toMatchObject({ commit: 'off', path: schema });
    // Every connection of the pool, not only the first.
    const many = await Promise.all(Array.from({ length: 6 }, () => settingsOf(handle.relaxed)));
    expect(many.every((settings) => settings?.commit === 'off')).toBe(true);
  });
});
