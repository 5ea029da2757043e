import { createHash, createPublicKey, type KeyObject, sign } from 'node:crypto';
import type { Clock } from '../../../clock.js';
import {
  createMemoryProviderTokenStore,
  type ProviderToken,
  type ProviderTokenStore,
} from '../shared/provider-tokens.js';
import { type ApnsTokenCredentials, parseApnsSigningKey } from './apns.config.js';

/** The default store: one per process, shared by every adapter of this module. */
export const processProviderTokens = createMemoryProviderTokenStore();

const MINUTE = 60_000;
/** Apple: regenerate no more often than every 20 minutes, no less often than every 60. */
export const APNS_TOKEN_MIN_AGE_MS = 20 * MINUTE;
export const APNS_TOKEN_MAX_REFRESH_AGE_MS = 55 * MINUTE;
export const APNS_TOKEN_DEFAULT_REFRESH_AGE_MS = 50 * MINUTE;

/** The age at which a JWT is signed anew: `refreshAgeMs` (default 50 minutes) if within 20–55. */
export function checkedRefreshAge(refreshAgeMs = APNS_TOKEN_DEFAULT_REFRESH_AGE_MS): number {
  if (!(refreshAgeMs >= APNS_TOKEN_MIN_AGE_MS && refreshAgeMs <= APNS_TOKEN_MAX_REFRESH_AGE_MS)) {
    throw new Error('tokenRefreshAgeMs must be between 20 and 55 minutes');
  }
  return refreshAgeMs;
}

/** Token generations in progress, per store and storage key: concurrent sends sign once. */
const issuing = new WeakMap<ProviderTokenStore, Map<string, Promise<ProviderToken>>>();

function base64url(text: string): string {
  return Buffer.from(text).toString('base64url');
}

export class ProviderTokens {
  readonly storageKey: string;
  private readonly key: KeyObject;
  private readonly jwtHeader: string;

  constructor(
    private readonly credentials: ApnsTokenCredentials,
    private readonly store: ProviderTokenStore,
    private readonly clock: Clock,
    private readonly refreshAgeMs: number,
  ) {
    this.key = parseApnsSigningKey(credentials.key);
    const publicKey = createPublicKey(this.key).export({ type: 'spki', format: 'der' });
    const fingerprint = createHash('sha256').update(publicKey).digest('hex').slice(0, 16);
    this.storageKey = `${credentials.team_id}/${credentials.key_id}/${fingerprint}`;
    this.jwtHeader = base64url(JSON.stringify({ alg: 'ES256', kid: credentials.key_id }));
  }

  /** The shared JWT, signed anew once it is `refreshAgeMs` old. */
  async current(): Promise<ProviderToken> {
    const stored = await this.store.get(this.storageKey);
    if (this.reusable(stored, undefined)) return stored;
    return this.issue(undefined);
  }

  private reusable(
    stored: ProviderToken | undefined,
    replacing: string | undefined,
  ): stored is ProviderToken {
    return (
      stored !== undefined &&
      stored.jwt !== replacing &&
      this.clock.now() - stored.issuedAt < this.refreshAgeMs
    );
  }

  /**
   * After `403 ExpiredProviderToken` for `failed`: the JWT to retry with, or undefined when
   * retrying is pointless. Another sender may already have replaced it (then that one);
   * otherwise a new one is signed, but only if `failed` is at least 20 minutes old, so that
   * tokens change at most once per 20 minutes whatever APNs says (a clock far off Apple's
   * would otherwise churn them into 429 TooManyProviderTokenUpdates).
   */
  async renewAfterExpired(failed: ProviderToken): Promise<ProviderToken | undefined> {
    const stored = await this.store.get(this.storageKey);
    if (stored !== undefined && stored.jwt !== failed.jwt) {
      return this.reusable(stored, undefined) ? stored : this.issue(undefined);
    }
    if (this.clock.now() - failed.issuedAt < APNS_TOKEN_MIN_AGE_MS) return undefined;
    return this.issue(failed.jwt);
  }

  /**
   * Signs a new token, unless the store already holds a usable one that is not `replacing`,
   * and puts it in the store by compare-and-set: when several processes sign at once, one
   * token wins and all of them use it (the others' are never sent).
   */
  private issue(replacing: string | undefined): Promise<ProviderToken> {
    let inProgress = issuing.get(this.store);
    if (inProgress === undefined) {
      inProgress = new Map();
      issuing.set(this.store, inProgress);
    }
    const running = inProgress.get(this.storageKey);
    if (running !== undefined) return running;
    const table = inProgress;
    const mint = async () => {
      const stored = await this.store.get(this.storageKey);
      if (this.reusable(stored, replacing)) return stored;
      const iat = Math.floor(this.clock.now() / 1000);
      const signingInput = `${this.jwtHeader}.${base64url(JSON.stringify({ iss: this.credentials.team_id, iat }))}`;
      const signature = sign('sha256', Buffer.from(signingInput), {
        key: this.key,
        dsaEncoding: 'ieee-p1363',
      });
      const token: ProviderToken = {
        jwt: `${signingInput}.${signature.toString('base64url')}`,
        issuedAt: iat * 1000,
      };
      return this.store.replace(this.storageKey, stored, token);
    };
    const signing = mint().finally(() => table.delete(this.storageKey));
    table.set(this.storageKey, signing);
    return signing;
  }
}
