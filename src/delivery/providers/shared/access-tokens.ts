import { createHash } from 'node:crypto';
import type { Clock } from '../../../clock.js';

export interface CachedAccessToken {
  token: string;
  /** Unix ms. */
  expiresAt: number;
}

/**
 * Where providers' OAuth access tokens are kept. The default lives in the process; a shared
 * implementation (Redis) lets several processes use one token per credential.
 */
export interface AccessTokenStore {
  get(key: string): Promise<CachedAccessToken | undefined>;
  set(key: string, value: CachedAccessToken): Promise<void>;
}

/**
 * A short digest of a credential's secret, for store keys: settings with another secret (a
 * typo, a rotated key) must never borrow a token the right one got, and keys never hold secrets.
 */
export function secretDigest(secret: string): string {
  return createHash('sha256').update(secret).digest('hex').slice(0, 16);
}

export function createMemoryAccessTokenStore(): AccessTokenStore {
  const entries = new Map<string, CachedAccessToken>();
  return {
    get: async (key) => entries.get(key),
    set: async (key, value) => {
      entries.set(key, value);
    },
  };
}

export interface AccessTokenSourceOptions {
  /** The store key: names the provider and the credential, never contains a secret. */
  key: string;
  /** Asks the provider for a new token; throws an `AccessTokenError` on failure. */
  fetch: () => Promise<CachedAccessToken>;
  clock: Clock;
  /** A token is replaced once less than this is left. */
  refreshMarginMs: number;
  store?: AccessTokenStore | undefined;
}

export interface AccessTokenSource {
  /**
   * A token with more than the margin left. `rejected`: a token the provider just refused —
   * never returned again, a new one is fetched (once, for all callers that saw it fail).
   */
  get(options?: { rejected?: string | undefined }): Promise<string>;
}

/**
 * Access tokens for one credential: cached until the margin before they expire, looked up in
 * the store before the provider is asked, and fetched by one request however many callers
 * wait (single flight).
 */
export function createAccessTokenSource(options: AccessTokenSourceOptions): AccessTokenSource {
  const { key, clock, refreshMarginMs } = options;
  const store = options.store ?? createMemoryAccessTokenStore();
  let current: CachedAccessToken | undefined;
  let inflight: Promise<CachedAccessToken> | undefined;

  const usable = (entry: CachedAccessToken | undefined, rejected: string | undefined) =>
    entry !== undefined && entry.token !== rejected && entry.expiresAt - clock.now() > refreshMarginMs;

  const refresh = async (rejected: string | undefined): Promise<CachedAccessToken> => {
    // A store that fails is a store that is empty: sending matters more than sharing.
    const stored = await Promise.resolve()
      .then(() => store.get(key))
      .catch(() => undefined);
    if (stored !== undefined && usable(stored, rejected)) return stored;
    const fresh = await options.fetch();
    await Promise.resolve()
      .then(() => store.set(key, fresh))
      .catch(() => undefined);
    return fresh;
  };

  const shared = (rejected: string | undefined): Promise<CachedAccessToken> => {
    if (inflight === undefined) {
      const attempt = refresh(rejected).then((entry) => {
        current = entry;
        return entry;
      });
      inflight = attempt;
      const clear = () => {
        if (inflight === attempt) inflight = undefined;
      };
      attempt.then(clear, clear);
    }
    return inflight;
  };

  return {
    async get(getOptions) {
      const rejected = getOptions?.rejected;
      if (rejected !== undefined && current?.token === rejected) current = undefined;
      if (current !== undefined && usable(current, rejected)) return current.token;
      // Joining a flight that started before the rejection may bring the rejected token back:
      // then one more flight, which skips it.
      let entry = await shared(rejected);
      if (rejected !== undefined && entry.token === rejected) entry = await shared(rejected);
      return entry.token;
    },
  };
}
