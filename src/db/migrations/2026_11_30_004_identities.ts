import { type Kysely, PostgresAdapter } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

/**
 * Third-party identities (WeChat, Facebook, Apple, Google) linked to users. One identity
 * belongs to one user, and a user has at most one identity per provider. Deleting the user
 * deletes them.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  const ref = postgres ? 'bigint' : 'integer';
  const time = postgres ? 'bigint' : 'integer';

  await db.schema
    .createTable('identities')
    .addColumn('id', postgres ? 'bigserial' : 'integer', (col) =>
      postgres ? col.primaryKey() : col.primaryKey().autoIncrement(),
    )
    .addColumn('user_id', ref, (col) => col.notNull().references('users.id').onDelete('cascade'))
    .addColumn('provider', 'text', (col) => col.notNull())
    .addColumn('subject', 'text', (col) => col.notNull())
    .addColumn('display_name', 'text')
    .addColumn('credentials', 'text')
    .addColumn('created_at', time, (col) => col.notNull())
    .addColumn('updated_at', time, (col) => col.notNull())
    .addUniqueConstraint('identities_provider_subject', ['provider', 'subject'])
    .addUniqueConstraint('identities_user_provider', ['user_id', 'provider'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('identities').execute();
}
