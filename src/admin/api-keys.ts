import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';
import { digestSecret } from '../crypto/secrets.js';
import type { ApiKeysTable, Executor } from '../db/schema.js';
import { AppError } from '../errors.js';
import {
  anyApiKey,
  findApiKeyByDigest,
  insertApiKey,
  insertApiKeyOnce,
  listApiKeys,
  revokeApiKey,
} from './api-keys.repository.js';

export const scopes = ['admin', 'send'] as const;
export type Scope = (typeof scopes)[number];

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  scopes: Scope[];
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface CreatedApiKey extends ApiKey {
  /** Shown once; only its digest is stored. */
  key: string;
}

function toApiKey(row: ApiKeysTable): ApiKey {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopes
      .split(',')
      .filter((scope): scope is Scope => (scopes as readonly string[]).includes(scope)),
    created_at: row.created_at,
    last_used_at: row.last_used_at,
    revoked_at: row.revoked_at,
  };
}

/** `admin` may do everything; `send` may send and read what it sent. */
export function allows(granted: readonly Scope[], needed: Scope): boolean {
  return granted.includes('admin') || granted.includes(needed);
}

/**
 * Server-to-server API keys, stored as SHA-256 digests (a key is 240 random bits, so a fast
 * digest is enough), looked up by digest. Revocation takes effect within `cacheMs`.
 */
export function createApiKeys(deps: { db: Executor; clock: Clock; cacheMs?: number }) {
  const { db, clock } = deps;
  const cacheMs = deps.cacheMs ?? 5_000;
  const cache = new Map<string, { key: ApiKey | null; until: number }>();

  function newRow(name: string, granted: readonly Scope[], key: string): ApiKeysTable {
    return {
      id: `key_${randomBytes(6).toString('hex')}`,
      name,
      prefix: key.slice(0, 10),
      key_hash: digestSecret(key),
      scopes: [...new Set(granted)].join(','),
      created_at: clock.now(),
      last_used_at: null,
      revoked_at: null,
    };
  }

  async function insert(name: string, granted: readonly Scope[], key: string): Promise<CreatedApiKey> {
    const row = newRow(name, granted, key);
    await insertApiKey(db, row);
    return { ...toApiKey(row), key };
  }

  return {
    create(name: string, granted: readonly Scope[]): Promise<CreatedApiKey> {
      return insert(name, granted, `bh_${randomBytes(30).toString('base64url')}`);
    },

    async list(): Promise<ApiKey[]> {
      return (await listApiKeys(db)).map(toApiKey);
    },

    async revoke(id: string): Promise<boolean> {
      const revoked = await revokeApiKey(db, id, clock.now());
      cache.clear();
      return revoked;
    },

    /**
     * On the first start of an empty deployment: the configured bootstrap key, or a new
     * admin key that is returned to be printed once. Returns undefined when nothing was made.
     */
    async bootstrap(configuredKey: string | undefined): Promise<CreatedApiKey | undefined> {
      if (configuredKey !== undefined) {
        // Processes of one deployment start at once with the same key: one stores it.
        const row = newRow('bootstrap (BELLHOP_ADMIN_KEY)', ['admin'], configuredKey);
        const stored = await insertApiKeyOnce(db, row);
        return stored ? { ...toApiKey(row), key: configuredKey } : undefined;
      }
      if (await anyApiKey(db)) return undefined;
      return this.create('bootstrap', ['admin']);
    },

    /** The key behind a bearer value, or an error: 401 unknown or revoked, 403 lacking the scope. */
    async authorize(presented: string, needed: Scope): Promise<ApiKey> {
      const digest = digestSecret(presented);
      const now = clock.now();
      let entry = cache.get(digest);
      if (entry === undefined || entry.until <= now) {
        const row = await findApiKeyByDigest(db, digest);
        entry = {
          key: row === undefined || row.revoked_at !== null ? null : toApiKey(row),
          until: now + cacheMs,
        };
        if (cache.size > 10_000) cache.clear();
        cache.set(digest, entry);
      }
      if (entry.key === null) throw new AppError('INVALID_API_KEY');
      if (!allows(entry.key.scopes, needed)) throw new AppError('FORBIDDEN', { field: 'scope' });
      return entry.key;
    },
  };
}

export type ApiKeys = ReturnType<typeof createApiKeys>;
