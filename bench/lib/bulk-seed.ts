import type { DatabaseHandle } from '../../src/db/database.js';
import type { RegistrationsTable, UsersTable } from '../../src/db/schema.js';

/**
 * Bulk seeding for the dispatch bench: users and their iPhone registrations written straight
 * into the tables in batched multi-row inserts inside one transaction (seconds for 100,000
 * users, where the API would take many minutes of argon2). The rows are what the API writes
 * for an iPhone's registration call (see src/registry/registry.service.ts): provider `apns`,
 * `provider_token` = the push token, `apns_environment` production (`dev: 0`).
 */

export interface SeedGroup {
  /** Users to create, each with one registration on `channel`. */
  count: number;
  channel: RegistrationsTable['channel'];
  usernamePrefix: string;
  /** The APNs device token (64 hex digits) of the group's `index`-th user. */
  token: (index: number) => string;
}

/** 1000 rows × 16 columns stays under SQLite's 32,766 and PostgreSQL's 65,535 parameters. */
const BATCH = 1000;

/** Creates the groups' users and registrations; returns each group's user ids, in order. */
export async function bulkSeed(
  database: DatabaseHandle,
  options: { bundleId: string; passwordHash: string; groups: SeedGroup[] },
): Promise<number[][]> {
  const now = Date.now();
  return database.db.transaction().execute(async (trx) => {
    const result: number[][] = [];
    for (const group of options.groups) {
      const ids: number[] = new Array(group.count);
      for (let start = 0; start < group.count; start += BATCH) {
        const end = Math.min(group.count, start + BATCH);
        const users: Array<Omit<UsersTable, 'id'>> = [];
        for (let index = start; index < end; index += 1) {
          const username = `${group.usernamePrefix}${index}`;
          users.push({
            username,
            username_key: username.toLowerCase(),
            email: null,
            phone: null,
            password_hash: options.passwordHash,
            created_at: now,
            updated_at: now,
          });
        }
        // Ids come back by user name: a multi-row RETURNING promises no order.
        const inserted = await trx
          .insertInto('users')
          .values(users)
          .returning(['id', 'username_key'])
          .execute();
        const byName = new Map(inserted.map((row) => [row.username_key, Number(row.id)]));
        const registrations: Array<Omit<RegistrationsTable, 'seq'>> = [];
        for (let index = start; index < end; index += 1) {
          const id = byName.get(`${group.usernamePrefix}${index}`.toLowerCase());
          if (id === undefined) throw new Error(`seeding: no id came back for user ${index}`);
          ids[index] = id;
          const token = group.token(index);
          registrations.push({
            user_id: id,
            session_id: null,
            channel: group.channel,
            push_token: token,
            language: 'en',
            dev: 0,
            bundleid: options.bundleId,
            os: 'iOS',
            os_token: '',
            push_platform: '',
            phone_model: 'iPhone15,3',
            provider: 'apns',
            provider_token: token,
            apns_environment: 'production',
            created_at: now,
            updated_at: now,
          });
        }
        await trx.insertInto('registrations').values(registrations).execute();
      }
      result.push(ids);
    }
    return result;
  });
}
