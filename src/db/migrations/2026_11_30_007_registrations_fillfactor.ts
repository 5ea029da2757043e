import { type Kysely, PostgresAdapter, sql } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

/**
 * PostgreSQL: a phone re-registering its token rewrites its row. With free room on the row's
 * page the new version stays there and no index is touched (a HOT update); full pages (the
 * default) send every re-registration to another page and into every index of the table.
 * Applies to pages written from now on. SQLite has no such setting.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql`alter table registrations set (fillfactor = 80)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql`alter table registrations reset (fillfactor)`.execute(db);
}
