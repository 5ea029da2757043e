import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase, testDialects } from '../../../test/helpers/app.js';
import { ManualClock } from '../../../test/helpers/clock.js';
import { eventually } from '../../../test/helpers/wait.js';
import { createSqlQueue } from './sql-queue.js';

const LEASE_MS = 60_000;

describe.each(testDialects())('the SQL queue’s lease on %s', (dialect) => {
  let database: TestDatabase;
  const clock = new ManualClock();
  const stops: Array<() => Promise<void>> = [];
  /** Lets the slow handler return. */
  let release = () => {};

  beforeEach(async () => {
    database = await createTestDatabase(dialect);
    const now = clock.now();
    await database.handle.db
      .insertInto('notifications')
      .values({
        id: 'n1',
        kind: 'send',
        channel: 'message',
        content: '{}',
        ttl_seconds: 3600,
        expires_at: now + 3_600_000,
        targets: 1,
        created_at: now,
      })
      .execute();
    await database.handle.db
      .insertInto('deliveries')
      .values({
        id: 'd1',
        notification_id: 'n1',
        user_id: 1,
        provider: 'apns',
        token: 'token',
        bundleid: 'app',
        language: 'en',
        status: 'queued',
        attempts: 0,
        priority: 1,
        due_at: now,
        created_at: now,
        updated_at: now,
      })
      .execute();
  });
  afterEach(async () => {
    release();
    for (const stop of stops.splice(0)) await stop();
    await database.drop();
  });

  /** A queue as a worker process runs it, on the manual clock; renewals every 5 ms of real time. */
  function queue() {
    const created = createSqlQueue({
      db: database.handle.db,
      clock,
      batchSize: 10,
      pollMs: 10,
      leaseMs: LEASE_MS,
      renewEveryMs: 5,
      concurrency: 1,
      onError: (error) => {
        throw error;
      },
    });
    stops.push(() => created.stop());
    return created;
  }

  const dueAt = async () =>
    Number(
      (
        await database.handle.db
          .selectFrom('deliveries')
          .select('due_at')
          .where('id', '=', 'd1')
          .executeTakeFirstOrThrow()
      ).due_at,
    );

  it('renews the lease while the handler works, so that a slow worker keeps its claim', async () => {
    const slow = queue();
    const handed: string[][] = [];
    slow.start(async (ids) => {
      handed.push(ids);
      await new Promise<void>((resolve) => {
        release = resolve;
      });
    });
    await eventually(async () => (handed.length > 0 ? true : undefined), 'the claim');
    expect(handed).toEqual([['d1']]);

    // Three lease lengths pass while the handler works: each time the lease follows.
    for (let step = 0; step < 6; step += 1) {
      clock.advance(LEASE_MS / 2);
      const renewed = clock.now() + LEASE_MS;
      await eventually(async () => ((await dueAt()) === renewed ? true : undefined), 'a renewal', 5_000);
    }
    expect(await queue().claim(10)).toEqual([]);

    // Done without settling (as when its database writes failed): the lease runs out and
    // the delivery is handed out again.
    release();
    await slow.stop();
    clock.advance(LEASE_MS);
    expect(await queue().claim(10)).toEqual(['d1']);
  });
});
