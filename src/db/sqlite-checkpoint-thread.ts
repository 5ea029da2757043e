/**
 * The body of the WAL checkpoint thread (see sqlite-checkpointer.ts): its own connection
 * checkpoints every `intervalMs`, PASSIVE, and once more when told to stop. Built as an entry
 * point of its own.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

export interface CheckpointThreadData {
  file: string;
  intervalMs: number;
}

const { file, intervalMs } = workerData as CheckpointThreadData;
const db = new Database(file, { fileMustExist: true });
db.pragma('busy_timeout = 1000');

function checkpoint(): void {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // Busy: the next interval tries again.
  }
}

const timer = setInterval(checkpoint, intervalMs);
parentPort?.once('message', () => {
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort?.close();
});
