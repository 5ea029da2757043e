/** A signed APNs JWT (Apple calls it the provider authentication token). `issuedAt` is Unix ms (the JWT's `iat` × 1000). */
export interface ApnsJwt {
  jwt: string;
  issuedAt: number;
}

/**
 * Where APNs JWTs live, so that every connection, adapter and process of a signing key
 * uses ONE JWT (APNs answers 429 TooManyProviderTokenUpdates to keys that churn them).
 */
export interface ApnsJwtStore {
  get(key: string): Promise<ApnsJwt | undefined>;
  /**
   * Compare-and-set: stores `next` if the store still holds `expected` (undefined: nothing),
   * and answers the JWT held afterwards. When several senders replace the same JWT at
   * once, one wins and every one of them answers the winner's JWT, so that only it is used.
   */
  replace(key: string, expected: ApnsJwt | undefined, next: ApnsJwt): Promise<ApnsJwt>;
}

export function createMemoryApnsJwtStore(): ApnsJwtStore {
  const jwts = new Map<string, ApnsJwt>();
  return {
    get: (key) => Promise.resolve(jwts.get(key)),
    replace(key, expected, next) {
      const held = jwts.get(key);
      if (held !== undefined && held.jwt !== expected?.jwt) return Promise.resolve(held);
      jwts.set(key, next);
      return Promise.resolve(next);
    },
  };
}
