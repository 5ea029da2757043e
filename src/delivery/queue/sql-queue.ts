import { type Kysely, sql } from 'kysely';
import type { Clock } from '../../clock.js';
import { isPostgres } from '../../db/dialect.js';
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
  return new SqlQueue(options);
}

class SqlQueue implements DeliveryQueue {
  private readonly postgres: boolean;
  private running = false;
  private wake: (() => void) | undefined;
  private nextDue = Number.POSITIVE_INFINITY;
  private loop: Promise<void> | undefined;

  constructor(private readonly options: SqlQueueOptions) {
    this.postgres = isPostgres(options.db);
  }

  async claim(limit: number): Promise<string[]> {
    const { db, clock } = this.options;
    const now = clock.now();
    const leaseUntil = now + this.options.leaseMs;
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
      .where('id', 'in', this.postgres ? due.forUpdate().skipLocked() : due)
      .where('due_at', '<=', now)
      .returning('id')
      .execute();
    return rows.map((row) => row.id);
  }

  /** One index look-up on `deliveries_due` (due_at first); without it, a scan of every pending row. */
  private async nextDueAt(): Promise<number> {
    const row = await this.options.db
      .selectFrom('deliveries')
      .select((eb) => eb.fn.min('due_at').as('due'))
      .where('due_at', 'is not', null)
      .executeTakeFirst();
    return row?.due === null || row?.due === undefined ? Number.POSITIVE_INFINITY : Number(row.due);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      timer = setTimeout(done, Math.max(0, ms));
      this.wake = done;
    });
  }

  /** Hands a claimed batch to the handler, its lease renewed while the handler works on it. */
  private handOver(
    ids: string[],
    handler: (ids: string[]) => Promise<void>,
    inFlight: Set<Promise<void>>,
    whenSettled: () => void,
  ): void {
    // The lease lasts while this process works on the batch; it runs out only when the
    // process is gone (or the handler left the deliveries as they were).
    const batch: Promise<void> = whileLeased(this.options, ids, () => handler(ids))
      .catch(this.options.onError)
      .finally(() => {
        inFlight.delete(batch);
        whenSettled();
      });
    inFlight.add(batch);
  }

  private async run(handler: (ids: string[]) => Promise<void>, hooks: QueueHooks): Promise<void> {
    const { clock, batchSize, concurrency, pollMs } = this.options;
    // Several batches in flight, so that one slow provider answer does not stall the rest.
    const inFlight = new Set<Promise<void>>();
    let drained = false;
    while (this.running) {
      try {
        if (inFlight.size >= concurrency) {
          await Promise.race(inFlight);
          continue;
        }
        const ids = await this.claim(batchSize);
        if (ids.length > 0) {
          drained = false;
          this.handOver(ids, handler, inFlight, () => {
            if (drained && inFlight.size === 0) hooks.idle?.();
          });
          continue;
        }
        drained = true;
        if (inFlight.size === 0) hooks.idle?.();
        this.nextDue = Math.min(await this.nextDueAt(), clock.now() + pollMs);
        if (!this.running) break;
        await this.sleep(this.nextDue - clock.now());
        this.nextDue = Number.POSITIVE_INFINITY;
      } catch (error) {
        this.options.onError(error);
        if (this.running) await this.sleep(pollMs);
      }
    }
    await Promise.all(inFlight);
  }

  async enqueue(jobs: Parameters<DeliveryQueue['enqueue']>[0]): Promise<void> {
    let earliest = Number.POSITIVE_INFINITY;
    for (const job of jobs) if (job.dueAt < earliest) earliest = job.dueAt;
    if (earliest <= this.nextDue) this.wake?.();
    if (this.options.wakeup !== undefined && earliest <= this.options.clock.now()) {
      // Not awaited: the caller's answer does not wait for other processes' wake-up.
      void sql`select pg_notify(${wakeupChannel}, '')`.execute(this.options.db).catch(this.options.onError);
    }
  }

  start(handler: (ids: string[]) => Promise<void>, hooks: QueueHooks = {}): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run(handler, hooks);
    void this.options.wakeup?.listen(() => this.wake?.()).catch(this.options.onError);
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.options.wakeup?.close();
    await this.loop;
  }
}
