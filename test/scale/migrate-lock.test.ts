import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { createDatabase } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { testDialects } from '../helpers/app.js';

describe.skipIf(!testDialects().includes('postgres'))('migrations on PostgreSQL', () => {
  it('run once when several processes start at the same time', async () => {
    const url = inject('postgresUrl');
    const schema = `bh_migrate_${randomBytes(5).toString('hex')}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    const handles = Array.from({ length: 4 }, () =>
      createDatabase({ dialect: 'postgres', url, poolSize: 1, schema }),
    );
    try {
      const results = await Promise.all(handles.map((handle) => migrateToLatest(handle.db, { schema })));
      const applied = results.map((result) => result.results?.length ?? 0);
      expect(applied.filter((count) => count > 0)).toHaveLength(1);
      const tables = await admin.query(
        `select count(*)::int as n from information_schema.tables where table_schema = $1 and table_name = 'deliveries'`,
        [schema],
      );
      expect(tables.rows[0]).toEqual({ n: 1 });
    } finally {
      await Promise.all(handles.map((handle) => handle.close()));
      await admin.query(`drop schema ${schema} cascade`);
      await admin.end();
    }
  });
});
