import { Worker } from 'node:worker_threads';

/**
 * WAL checkpoints on a thread of their own. A checkpoint copies the log back into the
 * database file and syncs it to disk; run by the connection that commits (SQLite's default),
 * it stalls every request behind that commit. The main connection turns automatic
 * checkpoints off and this thread's own connection checkpoints every `intervalMs`, PASSIVE:
 * it never waits for, or blocks, the writer.
 */
const checkpointerSource = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
const timer = setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch { /* busy: the next interval tries again */ }
}, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {}
  db.close();
  parentPort.close();
});
`;

export interface Checkpointer {
  stop(): Promise<void>;
}

export function startCheckpointer(file: string, driverPath: string, intervalMs = 1_000): Checkpointer {
  const worker = new Worker(checkpointerSource, {
    eval: true,
    workerData: { file, driver: driverPath, intervalMs },
  });
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
