import { type Kysely, PostgresAdapter } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

export async function up(db: Kysely<unknown>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  const time = postgres ? 'bigint' : 'integer';
  const ref = postgres ? 'bigint' : 'integer';

  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('prefix', 'text', (col) => col.notNull())
    .addColumn('key_hash', 'text', (col) => col.notNull().unique())
    .addColumn('scopes', 'text', (col) => col.notNull())
    .addColumn('created_at', time, (col) => col.notNull())
    .addColumn('last_used_at', time)
    .addColumn('revoked_at', time)
    .execute();

  await db.schema
    .createTable('apps')
    .addColumn('bundleid', 'text', (col) => col.primaryKey())
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('default_language', 'text', (col) => col.notNull())
    .addColumn('mode', 'text', (col) => col.notNull())
    .addColumn('settings', 'text', (col) => col.notNull())
    .addColumn('secrets', 'text')
    .addColumn('flags', 'text', (col) => col.notNull())
    .addColumn('created_at', time, (col) => col.notNull())
    .addColumn('updated_at', time, (col) => col.notNull())
    .execute();

  await db.schema
    .createTable('notifications')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('kind', 'text', (col) => col.notNull())
    .addColumn('channel', 'text', (col) => col.notNull())
    .addColumn('bundleid', 'text')
    .addColumn('content', 'text', (col) => col.notNull())
    .addColumn('collapse_id', 'text')
    .addColumn('ttl_seconds', 'integer', (col) => col.notNull())
    .addColumn('expires_at', time, (col) => col.notNull())
    .addColumn('idempotency_key', 'text', (col) => col.unique())
    .addColumn('parent_id', 'text')
    .addColumn('api_key_id', 'text')
    .addColumn('targets', 'integer', (col) => col.notNull())
    .addColumn('created_at', time, (col) => col.notNull())
    .addColumn('cancelled_at', time)
    .execute();
  await db.schema.createIndex('notifications_created_at').on('notifications').column('created_at').execute();

  await db.schema
    .createTable('deliveries')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('notification_id', 'text', (col) =>
      col.notNull().references('notifications.id').onDelete('cascade'),
    )
    .addColumn('user_id', ref, (col) => col.notNull())
    .addColumn('registration_seq', ref)
    .addColumn('provider', 'text', (col) => col.notNull())
    .addColumn('token', 'text', (col) => col.notNull())
    .addColumn('environment', 'text')
    .addColumn('bundleid', 'text', (col) => col.notNull())
    .addColumn('language', 'text', (col) => col.notNull())
    .addColumn('status', 'text', (col) => col.notNull())
    .addColumn('reason', 'text')
    .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('priority', 'integer', (col) => col.notNull())
    // When the row is next due for work: its next attempt, or the end of its lease while a
    // worker holds it; NULL once it is settled. The queue claims by this column alone.
    .addColumn('due_at', time)
    .addColumn('provider_message_id', 'text')
    .addColumn('created_at', time, (col) => col.notNull())
    .addColumn('updated_at', time, (col) => col.notNull())
    .addColumn('sent_at', time)
    .execute();
  await db.schema.createIndex('deliveries_notification').on('deliveries').column('notification_id').execute();
  await db.schema.createIndex('deliveries_due').on('deliveries').columns(['due_at', 'priority']).execute();

  await db.schema
    .createTable('inbox')
    .addColumn('id', postgres ? 'bigserial' : 'integer', (col) =>
      postgres ? col.primaryKey() : col.primaryKey().autoIncrement(),
    )
    .addColumn('bundleid', 'text', (col) => col.notNull())
    .addColumn('delivery_id', 'text', (col) => col.notNull())
    .addColumn('notification_id', 'text', (col) => col.notNull())
    .addColumn('provider', 'text', (col) => col.notNull())
    .addColumn('request', 'text', (col) => col.notNull())
    .addColumn('created_at', time, (col) => col.notNull())
    .execute();
  await db.schema.createIndex('inbox_bundleid').on('inbox').columns(['bundleid', 'id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['inbox', 'deliveries', 'notifications', 'apps', 'api_keys']) {
    await db.schema.dropTable(table).execute();
  }
}
