import type { Kysely } from 'kysely';
import type { Database } from '../../src/db/schema.js';

/** Every row of every table, ordered by primary key: equal snapshots mean an unchanged database. */
export async function snapshotTables(db: Kysely<Database>) {
  return {
    users: await db.selectFrom('users').selectAll().orderBy('id').execute(),
    sessions: await db.selectFrom('sessions').selectAll().orderBy('id').execute(),
    session_credentials: await db.selectFrom('session_credentials').selectAll().orderBy('id').execute(),
    registrations: await db.selectFrom('registrations').selectAll().orderBy('seq').execute(),
    identities: await db.selectFrom('identities').selectAll().orderBy('id').execute(),
  };
}

export type TablesSnapshot = Awaited<ReturnType<typeof snapshotTables>>;
