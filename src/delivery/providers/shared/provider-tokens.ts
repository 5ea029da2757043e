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
  set(key: string, value: ProviderToken): Promise<void>;
  /**
   * Runs `work` while no other process runs it for `key` (a shared store's lock), so that
   * check-then-sign happens once across processes. Absent: the process's own single flight
   * is enough.
   */
  exclusive?<T>(key: string, work: () => Promise<T>): Promise<T>;
}

export function createMemoryProviderTokenStore(): ProviderTokenStore {
  const tokens = new Map<string, ProviderToken>();
  return {
    get: (key) => Promise.resolve(tokens.get(key)),
    set: (key, value) => {
      tokens.set(key, value);
      return Promise.resolve();
    },
  };
}
