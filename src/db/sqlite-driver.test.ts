import SQLite from 'better-sqlite3';
import { Kysely, sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GroupCommitSqliteDialect } from './sqlite-driver.js';

interface Schema {
  items: { id: number; name: string };
}

describe('group-commit SQLite driver', () => {
  let database: SQLite.Database;
  let db: Kysely<Schema>;
  let dialect: GroupCommitSqliteDialect;
  let commits: number;

  beforeEach(async () => {
    database = new SQLite(':memory:');
    commits = 0;
    // Counts the transactions that reach the database file.
    const exec = database.exec.bind(database);
    database.exec = (source: string) => {
      if (/^commit/i.test(source)) commits += 1;
      return exec(source);
    };
    dialect = new GroupCommitSqliteDialect(database);
    db = new Kysely<Schema>({ dialect });
    await sql`create table items (id integer primary key, name text not null unique)`.execute(db);
  });

  afterEach(async () => {
    await db.destroy();
  });

  it('commits writes issued together in one transaction and answers each caller', async () => {
    const inserts = Array.from({ length: 20 }, (_, index) =>
      db
        .insertInto('items')
        .values({ id: index + 1, name: `item-${index + 1}` })
        .returning('id')
        .executeTakeFirst(),
    );
    const results = await Promise.all(inserts);
    expect(results.map((row) => row?.id)).toEqual(Array.from({ length: 20 }, (_, index) => index + 1));
    expect(commits).toBe(1);
    expect(await db.selectFrom('items').select(db.fn.countAll().as('n')).executeTakeFirst()).toEqual({
      n: 20,
    });
  });

  it('fails only the statement that fails; the others of its group are committed', async () => {
    await db.insertInto('items').values({ id: 1, name: 'taken' }).execute();
    const outcomes = await Promise.allSettled([
      db.insertInto('items').values({ id: 2, name: 'first' }).execute(),
      db.insertInto('items').values({ id: 3, name: 'taken' }).execute(),
      db.insertInto('items').values({ id: 4, name: 'last' }).execute(),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const names = await db.selectFrom('items').select('name').orderBy('id').execute();
    expect(names.map((row) => row.name)).toEqual(['taken', 'first', 'last']);
  });

  /**
   * A transaction that has inserted 'inside' (id 1) and stays open until `release`; then it
   * commits, or rolls back when `undo`. `finished` settles with its error, if any.
   */
  async function openTransaction(undo: boolean) {
    let release: () => void = () => {};
    const holding = new Promise<void>((resolve) => {
      release = resolve;
    });
    const finished = db
      .transaction()
      .execute(async (trx) => {
        await trx.insertInto('items').values({ id: 1, name: 'inside' }).execute();
        await holding;
        if (undo) throw new Error('undo');
      })
      .catch((error: unknown) => error);
    await new Promise((resolve) => setImmediate(resolve));
    return { release, finished };
  }

  it('keeps an explicit transaction to itself: other statements wait for it, a rollback undoes only it', async () => {
    const transaction = await openTransaction(true);
    const outside = db.insertInto('items').values({ id: 2, name: 'outside' }).execute();
    const read = db.selectFrom('items').select('name').execute();
    transaction.release();
    expect(await transaction.finished).toBeInstanceOf(Error);
    await outside;
    // The rolled-back row is gone; the read, issued after the insert, runs after it.
    expect((await read).map((row) => row.name)).toEqual(['outside']);
  });

  it('runs reads issued together in one transaction, in the order issued among the writes', async () => {
    await db.insertInto('items').values({ id: 1, name: 'first' }).execute();
    const before = db.selectFrom('items').select('name').orderBy('id').execute();
    const write = db.insertInto('items').values({ id: 2, name: 'second' }).execute();
    const after = db.selectFrom('items').select('name').orderBy('id').execute();
    const failing = db.insertInto('items').values({ id: 1, name: 'again' }).execute();
    const last = db.selectFrom('items').select('name').orderBy('id').execute();
    const outcomes = await Promise.allSettled([before, write, after, failing, last]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    expect(await before).toEqual([{ name: 'first' }]);
    expect(await after).toEqual([{ name: 'first' }, { name: 'second' }]);
    expect(await last).toEqual([{ name: 'first' }, { name: 'second' }]);
  });

  it('runs statements that cannot be part of a transaction on their own', async () => {
    const [, pragma] = await Promise.all([
      db.insertInto('items').values({ id: 1, name: 'a' }).execute(),
      sql<{ foreign_keys: number }>`pragma foreign_keys`.execute(db),
    ]);
    expect(pragma.rows).toHaveLength(1);
    expect(database.inTransaction).toBe(false);
  });

  /** Adds `name` unless it is taken, as a request would: a read, then a write that depends on it. */
  function addUnlessTaken(id: number, name: string) {
    return dialect.runGroupedWork((run) => {
      const taken = run('select id from items where name = ?', [name]).rows;
      if (taken.length > 0) return 'taken';
      run('insert into items (id, name) values (?, ?)', [id, name]);
      return 'added';
    });
  }

  it('runs a unit of work of dependent statements within one group, each seeing the ones before', async () => {
    await db.insertInto('items').values({ id: 1, name: 'first' }).execute();
    commits = 0;
    const outcomes = await Promise.all([
      addUnlessTaken(2, 'first'),
      addUnlessTaken(3, 'second'),
      dialect.runGrouped('insert into items (id, name) values (?, ?)', [4, 'third']),
      addUnlessTaken(5, 'second'),
      addUnlessTaken(6, 'third'),
    ]);
    expect(outcomes).toEqual(['taken', 'added', expect.anything(), 'taken', 'taken']);
    expect(commits).toBe(1);
    const names = await db.selectFrom('items').select(['id', 'name']).orderBy('id').execute();
    expect(names).toEqual([
      { id: 1, name: 'first' },
      { id: 3, name: 'second' },
      { id: 4, name: 'third' },
    ]);
  });

  it('fails only the unit of work that throws; the rest of its group is committed', async () => {
    const outcomes = await Promise.allSettled([
      addUnlessTaken(1, 'a'),
      dialect.runGroupedWork((run) => {
        run('insert into items (id, name) values (?, ?)', [2, 'b']);
        run('insert into items (id, name) values (?, ?)', [1, 'duplicate id']);
      }),
      addUnlessTaken(3, 'c'),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    // Each statement is atomic on its own: the work's first insert stays, as documented.
    const names = await db.selectFrom('items').select('name').orderBy('id').execute();
    expect(names.map((row) => row.name)).toEqual(['a', 'b', 'c']);
  });

  it('runs a unit of work after an explicit transaction ends, never inside it', async () => {
    const committed = await openTransaction(false);
    const afterCommit = addUnlessTaken(2, 'inside');
    committed.release();
    expect(await committed.finished).toBeUndefined();
    expect(await afterCommit).toBe('taken');

    await db.deleteFrom('items').execute();
    const rolledBack = await openTransaction(true);
    const afterRollback = addUnlessTaken(2, 'inside');
    rolledBack.release();
    expect(await rolledBack.finished).toBeInstanceOf(Error);
    // Run inside the transaction, it would have seen the row the rollback then removed.
    expect(await afterRollback).toBe('added');
    expect(await db.selectFrom('items').selectAll().execute()).toEqual([{ id: 2, name: 'inside' }]);
  });
});
