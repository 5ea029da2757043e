import { createHash } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { SecretBox } from '../crypto/secret-box.js';
import type { Executor } from '../db/schema.js';
import type { ApnsJwt, ApnsJwtStore } from './providers/shared/apns-jwts.js';

/** How long a process reuses what it read before it reads again: sending costs no query. */
const MEMO_MS = 5_000;

const digestOf = (jwt: string) => createHash('sha256').update(jwt).digest('hex');

/**
 * APNs JWTs in the database: one per signing key for every process, kept across restarts of
 * Bellhop and of Redis, so that a process that never saw the current JWT reads it instead of
 * signing another before its time. Sealed like provider credentials; a replacement is a
 * compare-and-set on the digest of the JWT it replaces.
 */
export function createDatabaseApnsJwtStore(deps: {
  db: Executor;
  box: SecretBox;
  clock: Clock;
}): ApnsJwtStore {
  const { db, box, clock } = deps;
  const memo = new Map<string, { jwt: ApnsJwt | undefined; readAt: number }>();

  async function read(key: string): Promise<ApnsJwt | undefined> {
    const row = await db
      .selectFrom('apns_jwts')
      .select(['sealed_jwt', 'issued_at'])
      .where('key', '=', key)
      .executeTakeFirst();
    const jwt = row === undefined ? undefined : { jwt: box.open(row.sealed_jwt), issuedAt: row.issued_at };
    memo.set(key, { jwt, readAt: clock.now() });
    return jwt;
  }

  return {
    async get(key) {
      const seen = memo.get(key);
      if (seen !== undefined && clock.now() - seen.readAt < MEMO_MS) return seen.jwt;
      try {
        return await read(key);
      } catch (error) {
        // The database away for a moment: the JWT this process last saw still signs requests.
        if (seen?.jwt !== undefined) return seen.jwt;
        throw error;
      }
    },
    async replace(key, expected, next) {
      const row = {
        key,
        jwt_digest: digestOf(next.jwt),
        sealed_jwt: box.seal(next.jwt),
        issued_at: next.issuedAt,
      };
      const result = await db
        .insertInto('apns_jwts')
        .values(row)
        .onConflict((conflict) =>
          conflict
            .column('key')
            .doUpdateSet({ jwt_digest: row.jwt_digest, sealed_jwt: row.sealed_jwt, issued_at: row.issued_at })
            // No digest is empty: with nothing expected, a stored JWT always wins.
            .where('apns_jwts.jwt_digest', '=', expected === undefined ? '' : digestOf(expected.jwt)),
        )
        .executeTakeFirst();
      if (Number(result.numInsertedOrUpdatedRows ?? 0) === 1) {
        memo.set(key, { jwt: next, readAt: clock.now() });
        return next;
      }
      // Another sender won: its JWT. (Rows are never deleted, so there is one to read.)
      return (await read(key)) ?? next;
    },
  };
}
