/** The channel bench's users and phones, written straight into the database. */
import { createChannelTokens } from '../../src/channel/tokens.js';
import { createSecretBox } from '../../src/crypto/secret-box.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import type { RegistrationsTable } from '../../src/db/schema.js';
import type { Storage } from './storage.js';

/** Users 0 … n-1, each with the phone of the same number as message registration; user 0's phone is also its ring registration. */
export async function seedPhones(
  storage: Storage,
  { phones, bundleId, masterKey }: { phones: number; bundleId: string; masterKey: string },
): Promise<number[]> {
  const tokens = createChannelTokens(
    createSecretBox(Buffer.from(masterKey, 'base64')).deriveKey('push channel tokens'),
  );
  const database = storage.open();
  await migrateToLatest(database.db);
  const now = Date.now();
  const userIds: number[] = [];
  for (let start = 0; start < phones; start += 1000) {
    const end = Math.min(phones, start + 1000);
    const users = [];
    for (let index = start; index < end; index += 1)
      users.push({
        username: `phone${index}`,
        username_key: `phone${index}`,
        email: null,
        phone: null,
        password_hash: null,
        created_at: now,
        updated_at: now,
      });
    const inserted = await database.db
      .insertInto('users')
      .values(users)
      .returning(['id', 'username'])
      .execute();
    const byName = new Map(inserted.map((row) => [row.username, Number(row.id)]));
    const registrations: Array<Omit<RegistrationsTable, 'seq'>> = [];
    for (let index = start; index < end; index += 1) {
      const id = byName.get(`phone${index}`) ?? 0;
      userIds.push(id);
      const token = tokens.issue({ bundleId, imei: `bench-${index}`, imsi: '' });
      const row = {
        user_id: id,
        session_id: null,
        push_token: token,
        language: 'en',
        dev: 0,
        bundleid: bundleId,
        os: 'ANDROID',
        os_token: '',
        push_platform: 'ANDROID',
        phone_model: 'bench',
        provider: 'channel',
        provider_token: token,
        apns_environment: null,
        created_at: now,
        updated_at: now,
      };
      registrations.push({ ...row, channel: 'message' });
      if (index === 0) registrations.push({ ...row, channel: 'ring' });
    }
    await database.db.insertInto('registrations').values(registrations).execute();
  }
  await database.close();
  return userIds;
}
