import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Threads of their own for argon2, each at a lower scheduling priority (nice 10) than the rest
 * of the process. On a machine with few cores a login storm otherwise takes whole cores from the
 * event loop: with the hash on the libuv pool at normal priority, every registration waited
 * behind it. A lowered priority gives way to the event loop whenever it has work and takes
 * every idle cycle otherwise. On Linux a thread's nice value is its own (`setPriority` from the
 * thread changes only that thread); where it is not, the threads run at normal priority.
 */
const threadSource = `
const { parentPort, workerData } = require('node:worker_threads');
const { setPriority } = require('node:os');
const argon2 = require(workerData.argon2);
try { setPriority(workerData.nice); } catch { /* not permitted here: normal priority */ }
parentPort.on('message', ({ operation, password, storedHash, options }) => {
  try {
    const value = operation === 'hash'
      ? argon2.hashSync(password, options)
      : argon2.verifySync(storedHash, password, options);
    parentPort.postMessage({ value });
  } catch (error) {
    parentPort.postMessage({ error: String(error && error.message || error) });
  }
});
`;

export interface Argon2Options {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

type Task =
  | { operation: 'hash'; password: string; options: Argon2Options }
  | { operation: 'verify'; password: string; storedHash: string; options: Argon2Options };

interface Pending {
  resolve(value: string | boolean): void;
  reject(error: Error): void;
}

const NICE = 10;

/** One thread per hash computed at once; idle threads keep no process alive. */
class HashingThreads {
  private readonly idle: Worker[] = [];
  private readonly waiting: Array<{ task: Task; pending: Pending }> = [];
  /** What each busy thread is computing. */
  private readonly busy = new Map<Worker, Pending>();
  private threads = 0;

  constructor(private readonly size: number) {}

  run(task: Task): Promise<string | boolean> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ task, pending: { resolve, reject } });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.waiting.length > 0) {
      const worker = this.idle.pop() ?? (this.threads < this.size ? this.spawn() : undefined);
      if (worker === undefined) return;
      const next = this.waiting.shift();
      if (next === undefined) return;
      this.busy.set(worker, next.pending);
      // A hash in progress keeps the process alive, as the libuv pool's would.
      worker.ref();
      worker.postMessage(next.task);
    }
  }

  private spawn(): Worker {
    this.threads += 1;
    const worker = new Worker(threadSource, {
      eval: true,
      workerData: { argon2: createRequire(import.meta.url).resolve('@node-rs/argon2'), nice: NICE },
    });
    worker.unref();
    worker.on('message', ({ value, error }: { value?: string | boolean; error?: string }) => {
      const pending = this.busy.get(worker);
      this.busy.delete(worker);
      worker.unref();
      this.idle.push(worker);
      if (error === undefined && value !== undefined) pending?.resolve(value);
      else pending?.reject(new Error(error ?? 'no result'));
      this.dispatch();
    });
    worker.on('error', (error) => this.lose(worker, error));
    worker.on('exit', () => this.lose(worker, new Error('hashing thread exited')));
    return worker;
  }

  /** A thread that died fails what it was computing; a new one replaces it on demand. */
  private lose(worker: Worker, error: Error): void {
    if (!this.busy.has(worker) && !this.idle.includes(worker)) return;
    const index = this.idle.indexOf(worker);
    if (index >= 0) this.idle.splice(index, 1);
    this.busy.get(worker)?.reject(error);
    this.busy.delete(worker);
    this.threads -= 1;
    this.dispatch();
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
