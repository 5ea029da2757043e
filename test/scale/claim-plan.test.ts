import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabase, type DatabaseHandle } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { claimStatement } from '../../src/delivery/queue/bullmq-queue.js';
import { testDialects } from '../helpers/app.js';

const NOW = 1_800_000_000_000;

describe.skipIf(!testDialects().includes('postgres'))('the claim of a queued job on PostgreSQL', () => {
  const url = inject('postgresUrl');
  const schema = `bh_claim_${randomBytes(5).toString('hex')}`;
  let admin: pg.Client;
  let database: DatabaseHandle;
  let ids: string[];

  /** The plan PostgreSQL chooses for `query`, as text (EXPLAIN does not run it). */
  async function plan(query: { compile(): { sql: string; parameters: readonly unknown[] } }) {
    const compiled = query.compile();
    const result = await admin.query(`explain ${compiled.sql}`, [...compiled.parameters]);
    return JSON.stringify(result.rows);
  }

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    await admin.query(`set search_path to ${schema}`);
    database = createDatabase({ dialect: 'postgres', url, poolSize: 2, schema });
    await migrateToLatest(database.db, { schema });
    // The statistics are taken while the table holds a few settled deliveries …
    await sql`insert into notifications (id, kind, channel, content, ttl_seconds, expires_at, targets, created_at)
      values ('old', 'send', 'message', '{}', 60, ${NOW}, 50, ${NOW}),
             ('fan-out', 'send', 'message', '{}', 60, ${NOW}, 20000, ${NOW})`.execute(database.db);
    const insertDeliveries = (notification: string, count: number, dueAt: number | null) =>
      sql`insert into deliveries (id, notification_id, user_id, provider, token, bundleid, language,
            status, priority, due_at, created_at, updated_at)
          select ${notification} || '-' || n, ${notification}, n, 'apns', md5(n::text), 'app', 'en',
            ${dueAt === null ? 'sent' : 'queued'}, 1, ${dueAt}::bigint, ${NOW}, ${NOW}
          from generate_series(1, ${count}) as n`.execute(database.db);
    await insertDeliveries('old', 50, null);
    await sql`analyze deliveries`.execute(database.db);
    // … and a fan-out then queues 20,000 more before autovacuum analyses the table again.
    await insertDeliveries('fan-out', 20_000, NOW);
    ids = Array.from({ length: 500 }, (_, index) => `fan-out-${index * 40 + 1}`);
  });

  afterAll(async () => {
    await database?.close();
    await admin?.query(`drop schema if exists ${schema} cascade`);
    await admin?.end();
  });

  it('would read the due-time index with a plain due_at condition (the statistics lag)', async () => {
    const plain = database.db
      .updateTable('deliveries')
      .set({ status: 'sending' })
      .where('id', 'in', ids)
      .where('due_at', '<=', NOW)
      .returning('id');
    expect(await plan(plain)).toMatch(/deliveries_(claim|due)/);
  });

  it('never reads the due-time indexes, and claims exactly the due ones', async () => {
    const claim = claimStatement(database.db, ids, NOW, NOW + 60_000);
    // The primary key, or on a table this small a scan of it: a cost that does not grow
    // with the number of due rows.
    expect(await plan(claim)).not.toMatch(/deliveries_(claim|due)/);

    await sql`update deliveries set due_at = ${NOW + 1} where id = ${ids[0]}`.execute(database.db);
    const claimed = await claim.execute();
    expect(claimed.map((row) => row.id).sort()).toEqual(ids.slice(1).sort());
    const again = await claimStatement(database.db, ids, NOW, NOW + 60_000).execute();
    expect(again).toEqual([]);
  });
});
