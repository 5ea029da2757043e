import type { Kysely } from 'kysely';
import type { Database } from '../../src/db/schema.js';

/** Every row of every table, ordered by primary key: equal snapshots mean an unchanged database. */
export async function snapshotTables(db: Kysely<Database>) {
  // At once: on PostgreSQL, five round trips in parallel rather than one after another.
  const [users, sessions, session_credentials, registrations, identities] = await Promise.all([
    db.selectFrom('users').selectAll().orderBy('id').execute(),
    db.selectFrom('sessions').selectAll().orderBy('id').execute(),
    db.selectFrom('session_credentials').selectAll().orderBy('id').execute(),
    db.selectFrom('registrations').selectAll().orderBy('seq').execute(),
    db.selectFrom('identities').selectAll().orderBy('id').execute(),
  ]);
  return { users, sessions, session_credentials, registrations, identities };
}

export type TablesSnapshot = Awaited<ReturnType<typeof snapshotTables>>;
