import { startThread } from '../threads.js';
import type { CheckpointThreadData } from './sqlite-checkpoint-thread.js';

/**
 * WAL checkpoints on a thread of their own (sqlite-checkpoint-thread.ts). A checkpoint copies
 * the log back into the database file and syncs it to disk; run by the connection that
 * commits (SQLite's default), it stalls every request behind that commit. The main connection
 * turns automatic checkpoints off and this thread's own connection checkpoints every
 * `intervalMs`, PASSIVE: it never waits for, or blocks, the writer.
 */
export interface Checkpointer {
  stop(): Promise<void>;
}

export function startCheckpointer(file: string, intervalMs = 1_000): Checkpointer {
  const workerData: CheckpointThreadData = { file, intervalMs };
  const worker = startThread(import.meta.url, 'sqlite-checkpoint-thread', { workerData });
  // The thread must not keep a process alive that has nothing else to do.
  worker.unref();
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    async stop() {
      // Held until the last checkpoint is written and the thread has closed its connection.
      worker.ref();
      worker.postMessage('stop');
      await exited;
    },
  };
}
