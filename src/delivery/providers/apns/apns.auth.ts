import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Clock } from '../../../clock.js';
import { type ApnsJwt, type ApnsJwtStore, createMemoryApnsJwtStore } from '../shared/apns-jwts.js';
import { type ApnsTokenCredentials, parseApnsSigningKey } from './apns.config.js';

/** The default store: one per process, shared by every adapter of this module. */
export const processApnsJwts = createMemoryApnsJwtStore();

const MINUTE = 60_000;
/** Apple: regenerate no more often than every 20 minutes, no less often than every 60. */
export const APNS_JWT_MIN_AGE_MS = 20 * MINUTE;
export const APNS_JWT_MAX_REFRESH_AGE_MS = 55 * MINUTE;
export const APNS_JWT_DEFAULT_REFRESH_AGE_MS = 50 * MINUTE;

/** The age at which a JWT is signed anew: `refreshAgeMs` (default 50 minutes) if within 20–55. */
export function checkedRefreshAge(refreshAgeMs = APNS_JWT_DEFAULT_REFRESH_AGE_MS): number {
  if (!(refreshAgeMs >= APNS_JWT_MIN_AGE_MS && refreshAgeMs <= APNS_JWT_MAX_REFRESH_AGE_MS)) {
    throw new Error('jwtRefreshAgeMs must be between 20 and 55 minutes');
  }
  return refreshAgeMs;
}

/** JWT signings in progress, per store and storage key: concurrent sends sign once. */
const issuing = new WeakMap<ApnsJwtStore, Map<string, Promise<ApnsJwt>>>();

/**
 * The APNs JWT of one signing key (ES256, `iss` = team, `kid` = key id), shared through a
 * store by every adapter and process of the key, and signed anew only when it must be.
 */
export class ApnsJwtSource {
  readonly storageKey: string;
  private readonly key: KeyObject;

  constructor(
    private readonly credentials: ApnsTokenCredentials,
    private readonly store: ApnsJwtStore,
    private readonly clock: Clock,
    private readonly refreshAgeMs: number,
  ) {
    this.key = parseApnsSigningKey(credentials.key);
    const publicKey = createPublicKey(this.key).export({ type: 'spki', format: 'der' });
    const fingerprint = createHash('sha256').update(publicKey).digest('hex').slice(0, 16);
    this.storageKey = `${credentials.team_id}/${credentials.key_id}/${fingerprint}`;
  }

  /** The shared JWT, signed anew once it is `refreshAgeMs` old. */
  async current(): Promise<ApnsJwt> {
    const stored = await this.store.get(this.storageKey);
    if (this.reusable(stored, undefined)) return stored;
    return this.issue(undefined);
  }

  private reusable(stored: ApnsJwt | undefined, replacing: string | undefined): stored is ApnsJwt {
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
   * JWTs change at most once per 20 minutes whatever APNs says (a clock far off Apple's
   * would otherwise churn them into 429 TooManyProviderTokenUpdates).
   */
  async renewAfterExpired(failed: ApnsJwt): Promise<ApnsJwt | undefined> {
    const stored = await this.store.get(this.storageKey);
    if (stored !== undefined && stored.jwt !== failed.jwt) {
      return this.reusable(stored, undefined) ? stored : this.issue(undefined);
    }
    if (this.clock.now() - failed.issuedAt < APNS_JWT_MIN_AGE_MS) return undefined;
    return this.issue(failed.jwt);
  }

  /**
   * Signs a new JWT, unless the store already holds a usable one that is not `replacing`,
   * and puts it in the store by compare-and-set: when several processes sign at once, one
   * JWT wins and all of them use it (the others' are never sent).
   */
  private issue(replacing: string | undefined): Promise<ApnsJwt> {
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
      const jwt = await new SignJWT({ iss: this.credentials.team_id, iat })
        .setProtectedHeader({ alg: 'ES256', kid: this.credentials.key_id })
        .sign(this.key);
      const signed: ApnsJwt = { jwt, issuedAt: iat * 1000 };
      return this.store.replace(this.storageKey, stored, signed);
    };
    const signing = mint().finally(() => table.delete(this.storageKey));
    table.set(this.storageKey, signing);
    return signing;
  }
}
