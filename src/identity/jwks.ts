import { type CryptoKey, createLocalJWKSet, importJWK, type JWK, type LocalJWKSet } from 'jose';
import type { Clock } from '../clock.js';
import type { IdentityProvider } from '../db/schema.js';
import { jsonHeaders, type LoginProviderHttp, requestJson, unavailable } from './provider-http.js';

export interface JwksOptions {
  provider: IdentityProvider;
  url: string;
  http: LoginProviderHttp;
  clock: Clock;
  /** How long a fetched key set is used; a shorter `Cache-Control: max-age` wins. */
  cacheMs: number;
  /** An unknown `kid` refetches the set at most this often, so made-up kids cannot hammer the endpoint. */
  minRefetchMs: number;
}

interface KeySet {
  kids: ReadonlySet<string>;
  keys: LocalJWKSet;
}

/**
 * RSA signing keys with a `kid` that jose can import (the verifier accepts RS256 and nothing
 * else), one per `kid` (the last); undefined when there is none.
 */
async function signingKeys(body: Record<string, unknown>): Promise<KeySet | undefined> {
  const byKid = new Map<string, JWK>();
  const list = Array.isArray(body.keys) ? body.keys : [];
  for (const jwk of list) {
    if (typeof jwk !== 'object' || jwk === null) continue;
    const { kty, kid, use, alg } = jwk as Record<string, unknown>;
    if (kty !== 'RSA' || typeof kid !== 'string' || kid === '') continue;
    if (use !== undefined && use !== 'sig') continue;
    if (alg !== undefined && alg !== 'RS256') continue;
    try {
      await importJWK(jwk as JWK, 'RS256');
      byKid.set(kid, jwk as JWK);
    } catch {
      // A key we cannot read is a key nothing can be verified with.
    }
  }
  if (byKid.size === 0) return undefined;
  return { kids: new Set(byKid.keys()), keys: createLocalJWKSet({ keys: [...byKid.values()] }) };
}

function maxAgeMs(cacheControl: string | string[] | undefined): number | undefined {
  const text = Array.isArray(cacheControl) ? cacheControl.join(',') : cacheControl;
  const match = text === undefined ? null : /(?:^|[,\s])max-age=(\d+)/i.exec(text);
  return match?.[1] === undefined ? undefined : Number(match[1]) * 1000;
}

/**
 * A provider's JSON Web Key Set, fetched on first use with Bellhop's HTTP client (its CA and
 * timeout) and kept for `cacheMs`, as a jose local key set. A `kid` that is not in the set (the
 * provider rotated its keys) refetches it, at most once per `minRefetchMs` on Bellhop's clock;
 * concurrent requests share one fetch. When a refresh fails the keys already known are kept.
 * (jose's remote key set would fetch by itself, but times its cooldown by the system clock.)
 */
export class JwksCache {
  private keys: KeySet | undefined;
  private expiresAt = 0;
  private lastAttemptAt: number | undefined;
  private inFlight: Promise<void> | undefined;

  constructor(private readonly options: JwksOptions) {}

  /** The key for `kid`, or undefined when the provider does not have it; throws when it cannot be asked. */
  async keyFor(kid: string): Promise<CryptoKey | undefined> {
    const now = this.options.clock.now();
    const mayFetch = () =>
      now - (this.lastAttemptAt ?? Number.NEGATIVE_INFINITY) >= this.options.minRefetchMs;
    let fetched = false;
    if (this.keys === undefined || (now >= this.expiresAt && mayFetch())) {
      fetched = true;
      try {
        await this.refresh();
      } catch (error) {
        if (this.keys === undefined) throw error;
      }
    }
    const known = await this.lookup(kid);
    if (known !== undefined) return known;
    if (fetched || !mayFetch()) return undefined;
    await this.refresh();
    return this.lookup(kid);
  }

  private async lookup(kid: string): Promise<CryptoKey | undefined> {
    if (this.keys === undefined || !this.keys.kids.has(kid)) return undefined;
    return this.keys.keys({ alg: 'RS256', kid });
  }

  private refresh(): Promise<void> {
    this.inFlight ??= this.fetch().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async fetch(): Promise<void> {
    const { provider, url, http, clock } = this.options;
    this.lastAttemptAt = clock.now();
    const answer = await requestJson(provider, () => http.get(url, jsonHeaders), 'the key set');
    if (answer.status !== 200) throw unavailable(provider, `the key set answered HTTP ${answer.status}`);
    const keys = await signingKeys(answer.body);
    if (keys === undefined) throw unavailable(provider, 'the key set has no RS256 keys');
    this.keys = keys;
    const maxAge = maxAgeMs(answer.headers['cache-control']);
    const lifetime = Math.min(maxAge ?? this.options.cacheMs, this.options.cacheMs);
    this.expiresAt = clock.now() + Math.max(lifetime, this.options.minRefetchMs);
  }
}
