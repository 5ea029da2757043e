import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../../test/helpers/wait.js';
import { startCheckpointer } from './sqlite-checkpointer.js';

describe('the WAL checkpoint thread', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('copies committed pages from the log into the database file, on its own thread', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bellhop-checkpoint-'));
    dirs.push(dir);
    const file = join(dir, 'test.db');
    const db = new SQLite(file);
    db.pragma('journal_mode = WAL');
    db.pragma('wal_autocheckpoint = 0');
    db.exec('create table t (x text)');
    const before = statSync(file).size;
    const insert = db.prepare('insert into t (x) values (?)');
    db.transaction(() => {
      for (let i = 0; i < 2_000; i += 1) insert.run('x'.repeat(100));
    })();
    // Nothing reaches the database file while automatic checkpoints are off.
    expect(statSync(file).size).toBe(before);
    const checkpointer = startCheckpointer(file, 10);
    try {
      await eventually(async () => (statSync(file).size > before ? true : undefined), 'a checkpoint');
    } finally {
      await checkpointer.stop();
      db.close();
    }
  });
});
