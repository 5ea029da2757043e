import { type Kysely, PostgresAdapter } from 'kysely';

/** Whether `db` runs on PostgreSQL (else SQLite): for the few statements the two write differently. */
export function isPostgres(db: Pick<Kysely<unknown>, 'getExecutor'>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}
