import { type Kysely, PostgresAdapter, sql } from 'kysely';
import type { Clock } from '../../clock.js';
import type { Database } from '../../db/schema.js';
import { whileLeased } from './lease.js';
import { type Wakeup, wakeupChannel } from './pg-wakeup.js';
import type { DeliveryQueue, QueueHooks } from './queue.js';

export interface SqlQueueOptions {
  db: Kysely<Database>;
  clock: Clock;
  batchSize: number;
  /** Longest wait between looks at the table when nothing woke the consumer. */
  pollMs: number;
  leaseMs: number;
  /** How often the lease of a batch being handled is renewed; a third of the lease unless given. */
  renewEveryMs?: number;
  /** Claimed batches handled at once. */
  concurrency: number;
  /** Cross-process wake-ups (PostgreSQL); without it other processes' work waits for a poll. */
  wakeup?: Wakeup;
  onError: (error: unknown) => void;
}

/**
 * Claims due rows of `deliveries` in one statement: `FOR UPDATE SKIP LOCKED` on
 * PostgreSQL so that processes never claim the same row; a plain conditional update on
 * SQLite, whose single writer serialises claims. Work enqueued in this process wakes the
 * consumer at once; other processes' work wakes it through `wakeup`, or the next poll.
 */
export function createSqlQueue(
  options: SqlQueueOptions,
): DeliveryQueue & { claim(limit: number): Promise<string[]> } {
  const { db, clock } = options;
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  let running = false;
  let wake: (() => void) | undefined;
  let nextDue = Number.POSITIVE_INFINITY;
  let loop: Promise<void> | undefined;

  async function claim(limit: number): Promise<string[]> {
    const now = clock.now();
    const leaseUntil = now + options.leaseMs;
    const due = db
      .selectFrom('deliveries')
      .select('id')
      .where('due_at', '<=', now)
      .orderBy('priority')
      .orderBy('due_at')
      .limit(limit);
    const rows = await db
      .updateTable('deliveries')
      .set({
        // A row whose lease ran out was in flight when its worker died: it goes out again
        // under the same id (the same apns-id), so duplicates can be recognised.
        status: sql<'sending'>`'sending'`,
        due_at: leaseUntil,
        updated_at: now,
      })
      .where('id', 'in', postgres ? due.forUpdate().skipLocked() : due)
      .where('due_at', '<=', now)
      .returning('id')
      .execute();
    return rows.map((row) => row.id);
  }

  /** One index look-up on `deliveries_due` (due_at first); without it, a scan of every pending row. */
  async function nextDueAt(): Promise<number> {
    const row = await db
      .selectFrom('deliveries')
      .select((eb) => eb.fn.min('due_at').as('due'))
      .where('due_at', 'is not', null)
      .executeTakeFirst();
    return row?.due === null || row?.due === undefined ? Number.POSITIVE_INFINITY : Number(row.due);
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, Math.max(0, ms));
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });
  }

  async function run(handler: (ids: string[]) => Promise<void>, hooks: QueueHooks): Promise<void> {
    // Several batches in flight, so that one slow provider answer does not stall the rest.
    const inFlight = new Set<Promise<void>>();
    let drained = false;
    while (running) {
      try {
        if (inFlight.size >= options.concurrency) {
          await Promise.race(inFlight);
          continue;
        }
        const ids = await claim(options.batchSize);
        if (ids.length > 0) {
          drained = false;
          // The lease lasts while this process works on the batch; it runs out only when the
          // process is gone (or the handler left the deliveries as they were).
          const batch: Promise<void> = whileLeased(options, ids, () => handler(ids))
            .catch(options.onError)
            .finally(() => {
              inFlight.delete(batch);
              if (drained && inFlight.size === 0) hooks.idle?.();
            });
          inFlight.add(batch);
          continue;
        }
        drained = true;
        if (inFlight.size === 0) hooks.idle?.();
        nextDue = Math.min(await nextDueAt(), clock.now() + options.pollMs);
        if (!running) break;
        await sleep(nextDue - clock.now());
        nextDue = Number.POSITIVE_INFINITY;
      } catch (error) {
        options.onError(error);
        if (running) await sleep(options.pollMs);
      }
    }
    await Promise.all(inFlight);
  }

  return {
    claim,
    async enqueue(jobs) {
      let earliest = Number.POSITIVE_INFINITY;
      for (const job of jobs) if (job.dueAt < earliest) earliest = job.dueAt;
      if (earliest <= nextDue) wake?.();
      if (options.wakeup !== undefined && earliest <= clock.now()) {
        // Not awaited: the caller's answer does not wait for other processes' wake-up.
        void sql`select pg_notify(${wakeupChannel}, '')`.execute(db).catch(options.onError);
      }
    },
    start(handler, hooks = {}) {
      if (running) return;
      running = true;
      loop = run(handler, hooks);
      void options.wakeup?.listen(() => wake?.()).catch(options.onError);
    },
    async stop() {
      running = false;
      wake?.();
      await options.wakeup?.close();
      await loop;
    },
  };
}
