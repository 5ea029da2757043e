import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
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

/** RSA signing keys only: the verifier accepts RS256 and nothing else. */
function signingKeys(body: Record<string, unknown>): Map<string, KeyObject> {
  const keys = new Map<string, KeyObject>();
  const list = Array.isArray(body.keys) ? body.keys : [];
  for (const jwk of list) {
    if (typeof jwk !== 'object' || jwk === null) continue;
    const { kty, kid, use, alg } = jwk as Record<string, unknown>;
    if (kty !== 'RSA' || typeof kid !== 'string' || kid === '') continue;
    if (use !== undefined && use !== 'sig') continue;
    if (alg !== undefined && alg !== 'RS256') continue;
    try {
      keys.set(kid, createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' }));
    } catch {
      // A key we cannot read is a key nothing can be verified with.
    }
  }
  return keys;
}

function maxAgeMs(cacheControl: string | string[] | undefined): number | undefined {
  const text = Array.isArray(cacheControl) ? cacheControl.join(',') : cacheControl;
  const match = text === undefined ? null : /(?:^|[,\s])max-age=(\d+)/i.exec(text);
  return match?.[1] === undefined ? undefined : Number(match[1]) * 1000;
}

/**
 * A provider's JSON Web Key Set, fetched on first use and kept for `cacheMs`. A `kid` that is
 * not in the set (the provider rotated its keys) refetches it, at most once per
 * `minRefetchMs`; concurrent requests share one fetch. When a refresh fails the keys already
 * known are kept.
 */
export class JwksCache {
  private keys = new Map<string, KeyObject>();
  private expiresAt = 0;
  private lastAttemptAt: number | undefined;
  private inFlight: Promise<void> | undefined;

  constructor(private readonly options: JwksOptions) {}

  /** The key for `kid`, or undefined when the provider does not have it; throws when it cannot be asked. */
  async keyFor(kid: string): Promise<KeyObject | undefined> {
    const now = this.options.clock.now();
    const mayFetch = () =>
      now - (this.lastAttemptAt ?? Number.NEGATIVE_INFINITY) >= this.options.minRefetchMs;
    let fetched = false;
    if (this.keys.size === 0 || (now >= this.expiresAt && mayFetch())) {
      fetched = true;
      try {
        await this.refresh();
      } catch (error) {
        if (this.keys.size === 0) throw error;
      }
    }
    const known = this.keys.get(kid);
    if (known !== undefined) return known;
    if (fetched || !mayFetch()) return undefined;
    await this.refresh();
    return this.keys.get(kid);
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
    const keys = signingKeys(answer.body);
    if (keys.size === 0) throw unavailable(provider, 'the key set has no RS256 keys');
    this.keys = keys;
    const maxAge = maxAgeMs(answer.headers['cache-control']);
    const lifetime = Math.min(maxAge ?? this.options.cacheMs, this.options.cacheMs);
    this.expiresAt = clock.now() + Math.max(lifetime, this.options.minRefetchMs);
  }
}
