/** A signed provider token (APNs's JWT). `issuedAt` is Unix ms (the JWT's `iat` × 1000). */
export interface ProviderToken {
  jwt: string;
  issuedAt: number;
}

/**
 * Where provider tokens live, so that every connection, adapter and process of a signing key
 * uses ONE token (APNs answers 429 TooManyProviderTokenUpdates to keys that churn tokens).
 */
export interface ProviderTokenStore {
  get(key: string): Promise<ProviderToken | undefined>;
  /**
   * Compare-and-set: stores `next` if the store still holds `expected` (undefined: nothing),
   * and answers the token held afterwards. When several senders replace the same token at
   * once, one wins and every one of them answers the winner's token, so that only it is used.
   */
  replace(key: string, expected: ProviderToken | undefined, next: ProviderToken): Promise<ProviderToken>;
}

export function createMemoryProviderTokenStore(): ProviderTokenStore {
  const tokens = new Map<string, ProviderToken>();
  return {
    get: (key) => Promise.resolve(tokens.get(key)),
    replace(key, expected, next) {
      const held = tokens.get(key);
      if (held !== undefined && held.jwt !== expected?.jwt) return Promise.resolve(held);
      tokens.set(key, next);
      return Promise.resolve(next);
    },
  };
}
