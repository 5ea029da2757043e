import type { Worker } from 'node:worker_threads';
import { createLimiter } from '../limiter.js';
import { startThread } from '../threads.js';
import type { HashingReply, HashingTask, HashingThreadData } from './hashing-protocol.js';

/**
 * Threads of their own for argon2, each at a lower scheduling priority (nice 10) than the rest
 * of the process. On a machine with few cores a login storm otherwise takes whole cores from the
 * event loop: with the hash on the libuv pool at normal priority, every registration waited
 * behind it. A lowered priority gives way to the event loop whenever it has work and takes
 * every idle cycle otherwise. On Linux a thread's nice value is its own (`setPriority` from the
 * thread changes only that thread); where it is not, the threads run at normal priority.
 * The threads' body is hashing-thread.ts.
 */
interface Pending {
  resolve(value: string | boolean): void;
  reject(error: Error): void;
}

const NICE = 10;

/** At most `size` hashes at once, each on a thread of its own; idle threads keep no process alive. */
class HashingThreads {
  private readonly limit: ReturnType<typeof createLimiter>;
  private readonly idle: Worker[] = [];
  /** What each busy thread is computing. */
  private readonly busy = new Map<Worker, Pending>();

  constructor(size: number) {
    this.limit = createLimiter(size);
  }

  run(task: HashingTask): Promise<string | boolean> {
    return this.limit(() => this.runOnThread(task));
  }

  /** Within the limit, so an idle thread or room for a new one is always there. */
  private runOnThread(task: HashingTask): Promise<string | boolean> {
    const worker = this.idle.pop() ?? this.spawn();
    return new Promise((resolve, reject) => {
      this.busy.set(worker, { resolve, reject });
      // A hash in progress keeps the process alive, as the libuv pool's would.
      worker.ref();
      worker.postMessage(task);
    });
  }

  private spawn(): Worker {
    const workerData: HashingThreadData = { nice: NICE };
    const worker = startThread(import.meta.url, 'hashing-thread', { workerData });
    worker.on('message', ({ value, error }: HashingReply) => {
      const pending = this.busy.get(worker);
      this.busy.delete(worker);
      worker.unref();
      this.idle.push(worker);
      if (error === undefined && value !== undefined) pending?.resolve(value);
      else pending?.reject(new Error(error ?? 'no result'));
    });
    worker.on('error', (error) => this.lose(worker, error));
    worker.on('exit', () => this.lose(worker, new Error('hashing thread exited')));
    return worker;
  }

  /** A thread that died fails what it was computing; the next hash starts a new one. */
  private lose(worker: Worker, error: Error): void {
    const index = this.idle.indexOf(worker);
    if (index >= 0) this.idle.splice(index, 1);
    this.busy.get(worker)?.reject(error);
    this.busy.delete(worker);
  }
}

const pools = new Map<number, HashingThreads>();

/** The process's hashing threads for this many hashes at once (shared by every hasher). */
export function hashingThreads(size: number): HashingThreads {
  let pool = pools.get(size);
  if (pool === undefined) {
    pool = new HashingThreads(size);
    pools.set(size, pool);
  }
  return pool;
}
