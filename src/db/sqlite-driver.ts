import type SQLite from 'better-sqlite3';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryResult,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
} from 'kysely';

/** Connection objects kept for reuse: about the most queries in flight at once. */
const MAX_IDLE_CONNECTIONS = 256;

/** Statements SQLite refuses inside a transaction, or that change its transaction state. */
const outsideTransactionStatement =
  /^\s*(pragma|vacuum|begin|commit|end|rollback|savepoint|release|attach|detach)\b/i;

/** Runs one statement at once, synchronously, inside a unit of work (see `runGroupedWork`). */
export type RunStatement = (sql: string, parameters: readonly unknown[]) => QueryResult<unknown>;

interface PendingWrite {
  /** A statement, or a unit of work of several. */
  run(): unknown;
  resolve(result: unknown): void;
  reject(error: unknown): void;
}

function execute(statement: SQLite.Statement, parameters: readonly unknown[]): QueryResult<unknown> {
  if (statement.reader) return { rows: statement.all(parameters) };
  const { changes, lastInsertRowid } = statement.run(parameters);
  return {
    numAffectedRows: BigInt(changes),
    insertId: BigInt(lastInsertRowid),
    rows: [],
  };
}

/** Waits until the holder of the explicit transaction lets go. */
class TransactionLock {
  private held: Promise<void> | undefined;
  private release: (() => void) | undefined;

  get isHeld(): boolean {
    return this.held !== undefined;
  }

  async acquire(): Promise<void> {
    while (this.held !== undefined) await this.held;
    this.held = new Promise((resolve) => {
      this.release = resolve;
    });
  }

  async whenFree(): Promise<void> {
    while (this.held !== undefined) await this.held;
  }

  unlock(): void {
    const release = this.release;
    this.held = undefined;
    this.release = undefined;
    release?.();
  }
}

/**
 * better-sqlite3 behind Kysely, with group commit: writes issued outside an explicit
 * transaction during one turn of the event loop are committed together in one transaction,
 * and each caller is answered after that commit. A commit per statement costs a WAL append
 * of every page it touched; many requests writing at once share those pages and that cost.
 *
 * Reads run at once and see only committed writes (a caller is answered only after its write
 * is committed, so it always reads its own writes). A statement that fails inside a group
 * fails alone, as it would on its own; if the group's transaction itself fails, every write
 * of the group is run again on its own, so no caller is answered for work that was undone.
 * Explicit transactions (`db.transaction()`) have the connection to themselves.
 */
class GroupCommitSqliteDriver implements Driver {
  private readonly lock = new TransactionLock();
  private pending: PendingWrite[] = [];
  private flushScheduled = false;
  private transactionConnection: SqliteConnection | undefined;
  /**
   * Connection objects are reused: one per query would also be one more entry in Kysely's
   * WeakSet of connections, and weak entries are costly work for every young-generation GC.
   */
  private readonly idleConnections: SqliteConnection[] = [];

  constructor(private readonly database: SQLite.Database) {}

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    return this.idleConnections.pop() ?? new SqliteConnection(this);
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await this.lock.acquire();
    this.flush();
    this.database.exec('begin');
    this.transactionConnection = connection as SqliteConnection;
  }

  async commitTransaction(): Promise<void> {
    this.database.exec('commit');
  }

  async rollbackTransaction(): Promise<void> {
    if (this.database.inTransaction) this.database.exec('rollback');
  }

  async savepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`savepoint "${name}"`));
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`rollback to "${name}"`));
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`release "${name}"`));
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    if (this.idleConnections.length < MAX_IDLE_CONNECTIONS)
      this.idleConnections.push(connection as SqliteConnection);
    if (connection !== this.transactionConnection) return;
    // A transaction left open (its commit failed and so did the rollback) must not swallow
    // the statements that come after it.
    if (this.database.inTransaction) this.database.exec('rollback');
    this.transactionConnection = undefined;
    this.lock.unlock();
    this.scheduleFlush();
  }

  async destroy(): Promise<void> {
    this.flush();
    this.database.close();
  }

  run(connection: SqliteConnection, query: CompiledQuery): Promise<QueryResult<unknown>> {
    if (connection !== this.transactionConnection) return this.runGrouped(query.sql, query.parameters);
    try {
      return Promise.resolve(execute(this.database.prepare(query.sql), query.parameters));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** A statement outside the explicit transaction, run with the others issued together. */
  async runGrouped(sql: string, parameters: readonly unknown[]): Promise<QueryResult<unknown>> {
    if (this.lock.isHeld) await this.lock.whenFree();
    const statement = this.database.prepare(sql);
    if (outsideTransactionStatement.test(sql)) {
      this.flush();
      return execute(statement, parameters);
    }
    // Reads join the group too: in WAL mode a statement alone begins and ends a read
    // transaction of its own (shared-memory locks each time); a group shares one.
    return this.enqueue(() => execute(statement, parameters)) as Promise<QueryResult<unknown>>;
  }

  /**
   * Several statements, where each depends on the answer to the last, run together within one
   * group: as separate grouped statements they would wait for a group each. Each statement is
   * atomic on its own, as outside a group; work that must be all or nothing is a transaction.
   * Work may be run a second time (alone) when its group's transaction fails, so it must be
   * safe to repeat.
   */
  async runGroupedWork<T>(work: (run: RunStatement) => T): Promise<T> {
    if (this.lock.isHeld) await this.lock.whenFree();
    return this.enqueue(() => work(this.runNow)) as Promise<T>;
  }

  private readonly runNow: RunStatement = (sql, parameters) =>
    execute(this.database.prepare(sql), parameters);

  private enqueue(run: () => unknown): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.pending.push({ run, resolve, reject });
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.pending.length === 0) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      if (!this.lock.isHeld) this.flush();
    });
  }

  /** Commits every pending write: alone when it is the only one, else in one transaction. */
  private flush(): void {
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    if (batch.length === 1 || this.database.inTransaction) {
      for (const write of batch) this.runAlone(write);
      return;
    }
    const outcomes: Array<{ ok: true; result: unknown } | { ok: false; error: unknown }> = [];
    try {
      this.database.exec('begin');
      for (const write of batch) {
        try {
          outcomes.push({ ok: true, result: write.run() });
        } catch (error) {
          if (!this.database.inTransaction) throw error;
          outcomes.push({ ok: false, error });
        }
      }
      this.database.exec('commit');
    } catch {
      if (this.database.inTransaction) this.database.exec('rollback');
      for (const write of batch) this.runAlone(write);
      return;
    }
    batch.forEach((write, index) => {
      const outcome = outcomes[index];
      if (outcome?.ok === true) write.resolve(outcome.result);
      else write.reject(outcome?.error);
    });
  }

  private runAlone(write: PendingWrite): void {
    try {
      write.resolve(write.run());
    } catch (error) {
      write.reject(error);
    }
  }
}

class SqliteConnection implements DatabaseConnection {
  constructor(private readonly driver: GroupCommitSqliteDriver) {}

  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    return this.driver.run(this, query) as Promise<QueryResult<R>>;
  }

  // biome-ignore lint/correctness/useYield: streaming is not offered; the error says so.
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming queries are not supported on SQLite');
  }
}

/** Kysely's SQLite dialect with the group-commit driver above. */
export class GroupCommitSqliteDialect implements Dialect {
  private driver: GroupCommitSqliteDriver | undefined;

  constructor(private readonly database: SQLite.Database) {}

  createDriver(): Driver {
    this.driver = new GroupCommitSqliteDriver(this.database);
    return this.driver;
  }

  /**
   * A compiled statement straight to the driver, grouped like any other: Kysely's connection
   * handling costs several promises per query, which the API's hottest statements skip.
   */
  runGrouped(sql: string, parameters: readonly unknown[]): Promise<QueryResult<unknown>> {
    return this.started().runGrouped(sql, parameters);
  }

  /** Statements that depend on each other's answers, run within one group (see the driver). */
  runGroupedWork<T>(work: (run: RunStatement) => T): Promise<T> {
    return this.started().runGroupedWork(work);
  }

  private started(): GroupCommitSqliteDriver {
    if (this.driver === undefined) throw new Error('the dialect has no driver yet');
    return this.driver;
  }

  createQueryCompiler() {
    return new SqliteQueryCompiler();
  }

  createAdapter() {
    return new SqliteAdapter();
  }

  // biome-ignore lint/suspicious/noExplicitAny: Kysely's own dialects take any database type here.
  createIntrospector(db: Kysely<any>) {
    return new SqliteIntrospector(db);
  }
}
