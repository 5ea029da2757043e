import { DelayedError, type Job, Queue, Worker } from 'bullmq';
import { type Kysely, sql } from 'kysely';
import type { Clock } from '../../clock.js';
import type { Database } from '../../db/schema.js';
import type { RedisHandle } from '../../redis/redis.js';
import { whileLeased } from './lease.js';
import type { DeliveryQueue, QueueHooks } from './queue.js';

export interface BullmqQueueOptions {
  redis: RedisHandle;
  db: Kysely<Database>;
  clock: Clock;
  /** Deliveries claimed and handed to the handler at once. */
  batchSize: number;
  /** Jobs worked on at once by this process. */
  concurrency: number;
  leaseMs: number;
  /** How often the lease of deliveries being sent is renewed; a third of the lease unless given. */
  renewEveryMs?: number;
  /** How often due deliveries the queue has lost track of are looked for in the database. */
  sweepMs: number;
  onError: (error: unknown) => void;
}

interface JobData {
  ids: string[];
}

const QUEUE = 'deliveries';
const ENQUEUE_TIMEOUT_MS = 2_000;
const SWEEP_LIMIT = 5_000;
/** Retries are enqueued in buckets of due time, one job per bucket rather than per delivery. */
const DUE_BUCKET_MS = 250;

/**
 * The claim of a job's rows: those of `ids` due by `now` become `sending`, leased until
 * `leaseUntil`. `due_at <= now` is written so that neither index on `due_at` can serve it (nor
 * the partial one: `coalesce` does not imply `due_at is not null`), and the rows are found by
 * primary key. Right after a large fan-out, PostgreSQL's statistics still say almost no row is
 * due, and it would otherwise read every due row of the fan-out for each job's claim: the
 * claims of a fan-out would cost its size squared.
 */
export function claimStatement(
  db: Kysely<Database>,
  ids: readonly string[],
  now: number,
  leaseUntil: number,
) {
  return db
    .updateTable('deliveries')
    .set({ status: 'sending', due_at: leaseUntil, updated_at: now })
    .where('id', 'in', ids)
    .where(sql<boolean>`coalesce(due_at, ${Number.MAX_SAFE_INTEGER}) <= ${now}`)
    .returning('id');
}

/**
 * The delivery queue on Redis (BullMQ) for many worker processes. The database stays the
 * record of every delivery and of who may send it; a BullMQ job carries a batch of delivery
 * ids (rings first by job priority, delayed until due) to some worker:
 *
 * - Before sending, the worker claims the job's rows with a lease (`due_at <= now` →
 *   `sending`, `due_at` = lease end) in one conditional update. A job BullMQ hands out twice
 *   (a stalled job after a crash), or a delivery that another job also carries, is therefore
 *   never sent twice while its lease runs; only a delivery whose worker died mid-send goes
 *   again, under the same id (the same apns-id).
 * - After the handler, the job's deliveries still due later (retries with backoff, leases
 *   another worker holds) are enqueued again, delayed until then; then the job is done.
 * - A sweep enqueues the deliveries that have been due for longer than a lease plus a sweep
 *   period: jobs lost with Redis (a restart without persistence), never added (Redis was
 *   down when they were accepted), or whose worker died. A delivery whose job is still in
 *   Redis may so get a second job: the claim makes that harmless.
 */
export function createBullmqQueue(options: BullmqQueueOptions): DeliveryQueue & { sweep(): Promise<number> } {
  return new BullmqQueue(options);
}

type Due = { id: string; dueAt: number; priority: number };

class BullmqQueue implements DeliveryQueue {
  private readonly queue: Queue<JobData>;
  private worker: Worker<JobData> | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: BullmqQueueOptions) {
    this.queue = new Queue<JobData>(QUEUE, {
      connection: options.redis.connection({ maxRetriesPerRequest: 1 }),
      prefix: options.redis.prefix,
      defaultJobOptions: { removeOnComplete: true, removeOnFail: true },
    });
    this.queue.on('error', options.onError);
  }

  /** Jobs of at most a batch of deliveries each, grouped by priority and due time. */
  private jobsOf(deliveries: readonly Due[]): Array<{ ids: string[]; dueAt: number; priority: number }> {
    const now = this.options.clock.now();
    const groups = new Map<string, { ids: string[]; dueAt: number; priority: number }>();
    const jobs: Array<{ ids: string[]; dueAt: number; priority: number }> = [];
    for (const delivery of deliveries) {
      const dueAt = delivery.dueAt <= now ? now : Math.ceil(delivery.dueAt / DUE_BUCKET_MS) * DUE_BUCKET_MS;
      const key = `${delivery.priority}/${dueAt}`;
      let group = groups.get(key);
      if (group === undefined || group.ids.length >= this.options.batchSize) {
        group = { ids: [], dueAt, priority: delivery.priority };
        groups.set(key, group);
        jobs.push(group);
      }
      group.ids.push(delivery.id);
    }
    return jobs;
  }

  async enqueue(deliveries: readonly Due[]): Promise<void> {
    const now = this.options.clock.now();
    const jobs = this.jobsOf(deliveries);
    for (let index = 0; index < jobs.length; index += 100) {
      const chunk = jobs.slice(index, index + 100).map((job) => ({
        name: 'deliver',
        data: { ids: job.ids },
        // BullMQ: 1 is the highest priority; 0 would mean none.
        opts: { priority: job.priority + 1, delay: Math.max(0, job.dueAt - now) },
      }));
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          this.queue.addBulk(chunk),
          new Promise((_, reject) => {
            timer = setTimeout(
              () => reject(new Error('Redis did not take the jobs in time')),
              ENQUEUE_TIMEOUT_MS,
            );
          }),
        ]);
      } catch (error) {
        // Stored is accepted: the sweep enqueues these deliveries once Redis answers again.
        this.options.onError(error);
        return;
      } finally {
        clearTimeout(timer);
      }
    }
  }

  async sweep(): Promise<number> {
    const { db, clock } = this.options;
    const rows = await db
      .selectFrom('deliveries')
      .select(['id', 'due_at', 'priority'])
      .where('due_at', '<=', clock.now() - this.options.sweepMs - this.options.leaseMs)
      .orderBy('priority')
      .orderBy('due_at')
      .limit(SWEEP_LIMIT)
      .execute();
    await this.enqueue(
      rows.map((row) => ({ id: row.id, dueAt: Number(row.due_at), priority: row.priority })),
    );
    return rows.length;
  }

  /** Claims due rows among `ids` for this worker, with a lease; the ids it got. */
  private async claim(ids: readonly string[]): Promise<string[]> {
    const now = this.options.clock.now();
    const rows = await claimStatement(this.options.db, ids, now, now + this.options.leaseMs).execute();
    return rows.map((row) => row.id);
  }

  /** Those of `ids` not settled, with when they are due again (Unix ms). */
  private async unsettled(ids: readonly string[]): Promise<Due[]> {
    const rows = await this.options.db
      .selectFrom('deliveries')
      .select(['id', 'due_at', 'priority'])
      .where('id', 'in', ids)
      .execute();
    // Filtered here, not by `due_at is not null`, which would let the partial due-time index
    // in (see claimStatement).
    return rows.flatMap((row) =>
      row.due_at === null ? [] : [{ id: row.id, dueAt: Number(row.due_at), priority: row.priority }],
    );
  }

  /** One job: claim its deliveries, hand them to the handler under a lease, enqueue what is left. */
  private async work(
    job: Job<JobData>,
    token: string | undefined,
    handler: (ids: string[]) => Promise<void>,
  ) {
    const ids = job.data.ids;
    try {
      const claimed = await this.claim(ids);
      if (claimed.length > 0) {
        // The lease lasts while this process works on the deliveries (a slow provider, a
        // loaded machine); it runs out only when the process is gone.
        await whileLeased(this.options, claimed, () => handler(claimed)).catch(this.options.onError);
      }
      await this.enqueue(await this.unsettled(ids));
    } catch (error) {
      // The database did not answer: the same job again in a second.
      this.options.onError(error);
      await job.moveToDelayed(Date.now() + 1_000, token);
      throw new DelayedError();
    }
  }

  start(handler: (ids: string[]) => Promise<void>, hooks: QueueHooks = {}): void {
    if (this.worker !== undefined) return;
    const { redis, leaseMs, onError } = this.options;
    this.worker = new Worker<JobData>(QUEUE, (job, token) => this.work(job, token, handler), {
      connection: redis.connection(),
      prefix: redis.prefix,
      concurrency: this.options.concurrency,
      // A crashed worker's jobs come back after about a lease; the database lease decides.
      lockDuration: leaseMs,
      stalledInterval: leaseMs,
      maxStalledCount: 1_000_000,
    });
    this.worker.on('error', onError);
    this.worker.on('drained', () => hooks.idle?.());
    const tick = () => {
      this.sweep().catch(onError);
    };
    this.sweepTimer = setInterval(tick, this.options.sweepMs);
    tick();
  }

  async stop(): Promise<void> {
    clearInterval(this.sweepTimer);
    // Waits for the jobs in progress: their deliveries are settled, rescheduled or leased.
    await this.worker?.close();
    await this.queue.close();
  }
}
