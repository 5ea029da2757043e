import type { Executor, UsersTable } from '../db/schema.js';

export type UserRow = Omit<UsersTable, 'id'> & { id: number };

export async function insertUser(db: Executor, user: Omit<UserRow, 'id'>): Promise<number> {
  const row = await db.insertInto('users').values(user).returning('id').executeTakeFirstOrThrow();
  return row.id;
}

export function findUserById(db: Executor, id: number): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Users whose user name, e-mail or phone is `login` (at most one of each kind). */
export function findUsersByLogin(
  db: Executor,
  login: { usernameKey: string; email: string; phone: string },
): Promise<UserRow[]> {
  return db
    .selectFrom('users')
    .selectAll()
    .where((eb) =>
      eb.or([
        eb('username_key', '=', login.usernameKey),
        eb('email', '=', login.email),
        eb('phone', '=', login.phone),
      ]),
    )
    .limit(3)
    .execute();
}

export async function findTakenIdentifiers(
  db: Executor,
  wanted: { usernameKey: string; email: string | null; phone: string | null },
): Promise<{ username: boolean; email: boolean; phone: boolean }> {
  const rows = await db
    .selectFrom('users')
    .select(['username_key', 'email', 'phone'])
    .where((eb) =>
      eb.or([
        eb('username_key', '=', wanted.usernameKey),
        ...(wanted.email === null ? [] : [eb('email', '=', wanted.email)]),
        ...(wanted.phone === null ? [] : [eb('phone', '=', wanted.phone)]),
      ]),
    )
    .execute();
  return {
    username: rows.some((row) => row.username_key === wanted.usernameKey),
    email: wanted.email !== null && rows.some((row) => row.email === wanted.email),
    phone: wanted.phone !== null && rows.some((row) => row.phone === wanted.phone),
  };
}

export async function updatePasswordHash(db: Executor, id: number, passwordHash: string, now: number) {
  await db
    .updateTable('users')
    .set({ password_hash: passwordHash, updated_at: now })
    .where('id', '=', id)
    .execute();
}

export async function deleteUser(db: Executor, id: number): Promise<void> {
  await db.deleteFrom('users').where('id', '=', id).execute();
}
