import { createHash } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { SecretBox } from '../crypto/secret-box.js';
import type { Executor } from '../db/schema.js';
import type { ProviderToken, ProviderTokenStore } from './providers/shared/provider-tokens.js';

/** How long a process reuses what it read before it reads again: sending costs no query. */
const MEMO_MS = 5_000;

const digestOf = (jwt: string) => createHash('sha256').update(jwt).digest('hex');

/**
 * Provider tokens (APNs's JWT) in the database: one per signing key for every process, kept
 * across restarts of Bellhop and of Redis, so that a process that never saw the current token
 * reads it instead of signing another before its time. Sealed like provider credentials; a
 * replacement is a compare-and-set on the digest of the token it replaces.
 */
export function createDatabaseProviderTokenStore(deps: {
  db: Executor;
  box: SecretBox;
  clock: Clock;
}): ProviderTokenStore {
  const { db, box, clock } = deps;
  const memo = new Map<string, { token: ProviderToken | undefined; readAt: number }>();

  async function read(key: string): Promise<ProviderToken | undefined> {
    const row = await db
      .selectFrom('provider_tokens')
      .select(['sealed_jwt', 'issued_at'])
      .where('key', '=', key)
      .executeTakeFirst();
    const token = row === undefined ? undefined : { jwt: box.open(row.sealed_jwt), issuedAt: row.issued_at };
    memo.set(key, { token, readAt: clock.now() });
    return token;
  }

  return {
    async get(key) {
      const seen = memo.get(key);
      if (seen !== undefined && clock.now() - seen.readAt < MEMO_MS) return seen.token;
      try {
        return await read(key);
      } catch (error) {
        // The database away for a moment: the token this process last saw still signs requests.
        if (seen?.token !== undefined) return seen.token;
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
        .insertInto('provider_tokens')
        .values(row)
        .onConflict((conflict) =>
          conflict
            .column('key')
            .doUpdateSet({ jwt_digest: row.jwt_digest, sealed_jwt: row.sealed_jwt, issued_at: row.issued_at })
            // No digest is empty: with nothing expected, a stored token always wins.
            .where('provider_tokens.jwt_digest', '=', expected === undefined ? '' : digestOf(expected.jwt)),
        )
        .executeTakeFirst();
      if (Number(result.numInsertedOrUpdatedRows ?? 0) === 1) {
        memo.set(key, { token: next, readAt: clock.now() });
        return next;
      }
      // Another sender won: its token. (Rows are never deleted, so there is one to read.)
      return (await read(key)) ?? next;
    },
  };
}
