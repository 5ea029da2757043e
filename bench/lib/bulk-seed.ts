import type { DatabaseHandle } from '../../src/db/database.js';
import type { RegistrationsTable, UsersTable } from '../../src/db/schema.js';
import { routeRegistration } from '../../src/registry/routing.js';

/**
 * Bulk seeding for the dispatch bench: users and their registrations written straight into the
 * tables in batched multi-row inserts inside one transaction (seconds for 100,000 users, where
 * the API would take many minutes of argon2). The rows are what the API writes for the
 * registration call (see src/registry/registry.service.ts): `os` and `push_platform` trimmed
 * and upper-cased, the route columns from src/registry/routing.ts — for an iPhone (the
 * default) provider `apns`, `provider_token` = the push token, `apns_environment` production
 * (`dev: 0`).
 */

export interface SeedGroup {
  /** Users to create, each with one registration on `channel`. */
  count: number;
  channel: RegistrationsTable['channel'];
  usernamePrefix: string;
  /** The `push_token` of the group's `index`-th user: an iPhone's APNs device token (64 hex digits). */
  token: (index: number) => string;
  /**
   * The phone of the group's `index`-th user as its registration call describes it, e.g.
   * `{os: 'Android', push_platform: 'XIAOMI', os_token: regId, phone_model: …}`; default an iPhone.
   */
  registration?: (index: number) => SeedPhone;
}

/** The fields of a registration call that decide its route. */
export interface SeedPhone {
  os: string;
  os_token: string;
  push_platform: string;
  phone_model: string;
}

const iPhone: SeedPhone = { os: 'iOS', os_token: '', push_platform: '', phone_model: 'iPhone15,3' };

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
          const phone = group.registration?.(index) ?? iPhone;
          const fields = {
            push_token: group.token(index),
            os: phone.os.trim().toUpperCase(),
            os_token: phone.os_token.trim(),
            push_platform: phone.push_platform.trim().toUpperCase(),
            dev: 0,
          };
          const route = routeRegistration(fields);
          registrations.push({
            ...fields,
            user_id: id,
            session_id: null,
            channel: group.channel,
            language: 'en',
            bundleid: options.bundleId,
            phone_model: phone.phone_model.trim(),
            provider: route.provider,
            provider_token: route.providerToken,
            apns_environment: route.apnsEnvironment,
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
