/**
 * The body of one hashing thread (see hashing-threads.ts): argon2 at a lower scheduling
 * priority than the event loop's thread. Built as an entry point of its own.
 */
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { hashSync, verifySync } from '@node-rs/argon2';
import type { HashingReply, HashingTask, HashingThreadData } from './hashing-protocol.js';

const { nice } = workerData as HashingThreadData;
try {
  setPriority(nice);
} catch {
  // Not permitted here: the thread runs at normal priority.
}

function compute(task: HashingTask): string | boolean {
  return task.operation === 'hash'
    ? hashSync(task.password, task.options)
    : verifySync(task.storedHash, task.password, task.options);
}

parentPort?.on('message', (task: HashingTask) => {
  let reply: HashingReply;
  try {
    reply = { value: compute(task) };
  } catch (error) {
    reply = { error: error instanceof Error ? error.message : String(error) };
  }
  parentPort?.postMessage(reply);
});
