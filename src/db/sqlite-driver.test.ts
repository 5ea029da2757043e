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
    db = new Kysely<Schema>({ dialect: new GroupCommitSqliteDialect(database) });
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

  it('keeps an explicit transaction to itself: other statements wait for it, a rollback undoes only it', async () => {
    let releaseTransaction: () => void = () => {};
    const holding = new Promise<void>((resolve) => {
      releaseTransaction = resolve;
    });
    const transaction = db
      .transaction()
      .execute(async (trx) => {
        await trx.insertInto('items').values({ id: 1, name: 'inside' }).execute();
        await holding;
        throw new Error('undo');
      })
      .catch((error: unknown) => error);
    await new Promise((resolve) => setImmediate(resolve));
    const outside = db.insertInto('items').values({ id: 2, name: 'outside' }).execute();
    const read = db.selectFrom('items').select('name').execute();
    releaseTransaction();
    expect(await transaction).toBeInstanceOf(Error);
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
});
