import { DelayedError, type Job, Queue, Worker } from 'bullmq';
import type { Kysely } from 'kysely';
import type { Clock } from '../../clock.js';
import type { Database } from '../../db/schema.js';
import type { RedisHandle } from '../../redis/redis.js';
import type { DeliveryQueue } from './queue.js';

export interface BullmqQueueOptions {
  redis: RedisHandle;
  db: Kysely<Database>;
  clock: Clock;
  /** Deliveries claimed and handed to the handler at once. */
  batchSize: number;
  /** Jobs worked on at once by this process. */
  concurrency: number;
  leaseMs: number;
  /** How often due deliveries the queue has lost track of are looked for in the database. */
  sweepMs: number;
  onError: (error: unknown) => void;
}

interface JobData {
  id: string;
}

const QUEUE = 'deliveries';
const ENQUEUE_TIMEOUT_MS = 2_000;
const SWEEP_LIMIT = 5_000;
const BATCHES_IN_FLIGHT = 4;

/**
 * The delivery queue on Redis (BullMQ) for many worker processes. The database stays the
 * record of every delivery and of who may send it; BullMQ only carries one job per delivery
 * (job id = delivery id, ring priority first, delayed until it is due) to some worker:
 *
 * - Before sending, the worker claims the row with a lease (`due_at <= now` → `sending`,
 *   `due_at` = lease end) in one conditional update. A job BullMQ hands out twice (a stalled
 *   job after a crash) or a delivery some other job holds is therefore never sent twice while
 *   its lease runs; only a delivery whose worker died mid-send goes again, under the same id.
 * - After the handler, a delivery that is still due later (a retry with backoff, a lease that
 *   another worker holds) keeps its job, moved to the delayed set until then.
 * - A sweep enqueues deliveries due for longer than one sweep period: jobs lost with Redis
 *   (a restart without persistence), or never added (Redis was down when they were accepted).
 *   Job ids make it idempotent: a delivery whose job is still in Redis is not added again.
 */
export function createBullmqQueue(options: BullmqQueueOptions): DeliveryQueue & { sweep(): Promise<number> } {
  const { db, clock, redis } = options;
  const prefix = redis.prefix;
  const queue = new Queue<JobData>(QUEUE, {
    connection: redis.connection({ maxRetriesPerRequest: 1 }),
    prefix,
    defaultJobOptions: { removeOnComplete: true, removeOnFail: true },
  });
  queue.on('error', options.onError);
  let worker: Worker<JobData> | undefined;
  let sweepTimer: NodeJS.Timeout | undefined;

  async function enqueue(jobs: ReadonlyArray<{ id: string; dueAt: number; priority: number }>) {
    const now = clock.now();
    for (let index = 0; index < jobs.length; index += 1000) {
      const chunk = jobs.slice(index, index + 1000).map((job) => ({
        name: 'deliver',
        data: { id: job.id },
        // BullMQ: 1 is the highest priority; 0 would mean none.
        opts: { jobId: job.id, priority: job.priority + 1, delay: Math.max(0, job.dueAt - now) },
      }));
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          queue.addBulk(chunk),
          new Promise((_, reject) => {
            timer = setTimeout(
              () => reject(new Error('Redis did not take the jobs in time')),
              ENQUEUE_TIMEOUT_MS,
            );
          }),
        ]);
      } catch (error) {
        // Stored is accepted: the sweep enqueues these deliveries once Redis answers again.
        options.onError(error);
        return;
      } finally {
        clearTimeout(timer);
      }
    }
  }

  async function sweep(): Promise<number> {
    const rows = await db
      .selectFrom('deliveries')
      .select(['id', 'due_at', 'priority'])
      .where('due_at', '<=', clock.now() - options.sweepMs)
      .orderBy('priority')
      .orderBy('due_at')
      .limit(SWEEP_LIMIT)
      .execute();
    await enqueue(rows.map((row) => ({ id: row.id, dueAt: Number(row.due_at), priority: row.priority })));
    return rows.length;
  }

  /** Claims due rows among `ids` for this worker, with a lease; the ids it got. */
  async function claim(ids: readonly string[]): Promise<string[]> {
    const now = clock.now();
    const rows = await db
      .updateTable('deliveries')
      .set({ status: 'sending', due_at: now + options.leaseMs, updated_at: now })
      .where('id', 'in', ids)
      .where('due_at', '<=', now)
      .returning('id')
      .execute();
    return rows.map((row) => row.id);
  }

  /** When each of `ids` is due again (Unix ms), for those not settled. */
  async function dueTimes(ids: readonly string[]): Promise<Map<string, number>> {
    const rows = await db
      .selectFrom('deliveries')
      .select(['id', 'due_at'])
      .where('id', 'in', ids)
      .where('due_at', 'is not', null)
      .execute();
    return new Map(rows.map((row) => [row.id, Number(row.due_at)]));
  }

  /**
   * Gathers the jobs that arrive together into one claim and one handler call (up to
   * `batchSize`): at once while fewer than BATCHES_IN_FLIGHT batches are running, else as soon
   * as one of them ends, so that batches grow with the load and a lone ring never waits.
   */
  function batcher(handler: (ids: string[]) => Promise<void>) {
    type Waiter = { id: string; done: (due: number | undefined) => void; fail: (error: unknown) => void };
    let pending: Waiter[] = [];
    let scheduled = false;
    let running = 0;
    const run = async (ids: string[]) => {
      const claimed = await claim(ids);
      if (claimed.length > 0) await handler(claimed).catch(options.onError);
      return dueTimes(ids);
    };
    const flush = () => {
      scheduled = false;
      while (pending.length > 0 && (running < BATCHES_IN_FLIGHT || pending.length >= options.batchSize)) {
        const batch = pending.slice(0, options.batchSize);
        pending = pending.slice(batch.length);
        running += 1;
        run(batch.map((entry) => entry.id))
          .then(
            (due) => {
              for (const entry of batch) entry.done(due.get(entry.id));
            },
            (error: unknown) => {
              for (const entry of batch) entry.fail(error);
            },
          )
          .finally(() => {
            running -= 1;
            schedule();
          });
      }
    };
    const schedule = () => {
      if (scheduled || pending.length === 0) return;
      scheduled = true;
      setImmediate(flush);
    };
    return (id: string) =>
      new Promise<number | undefined>((done, fail) => {
        pending.push({ id, done, fail });
        schedule();
      });
  }

  return {
    enqueue,
    sweep,
    start(handler) {
      if (worker !== undefined) return;
      const deliver = batcher(handler);
      const later = async (job: Job<JobData>, token: string | undefined, at: number) => {
        await job.moveToDelayed(Date.now() + Math.max(0, at - clock.now()), token);
        throw new DelayedError();
      };
      worker = new Worker<JobData>(
        QUEUE,
        async (job, token) => {
          let due: number | undefined;
          try {
            due = await deliver(job.data.id);
          } catch (error) {
            // The database did not answer: the same job again in a second.
            options.onError(error);
            return later(job, token, clock.now() + 1_000);
          }
          if (due !== undefined) return later(job, token, due);
        },
        {
          connection: redis.connection(),
          prefix,
          concurrency: options.concurrency,
          // A crashed worker's jobs come back after about a lease; the database lease decides.
          lockDuration: options.leaseMs,
          stalledInterval: options.leaseMs,
          maxStalledCount: 1_000_000,
        },
      );
      worker.on('error', options.onError);
      const tick = () => {
        sweep().catch(options.onError);
      };
      sweepTimer = setInterval(tick, options.sweepMs);
      tick();
    },
    async stop() {
      clearInterval(sweepTimer);
      // Waits for the jobs in progress: their deliveries are settled, rescheduled or leased.
      await worker?.close();
      await queue.close();
    },
  };
}
