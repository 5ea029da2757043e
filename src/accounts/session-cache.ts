import type { Clock } from '../clock.js';
import type { AuthenticatedSession } from '../http/auth.js';

/** Sessions and access tokens (digests) that stopped being valid. */
export interface Revocation {
  sessions?: string[];
  tokens?: string[];
}

interface Entry {
  session: AuthenticatedSession;
  cachedUntil: number;
}

/**
 * Access-token digest → session, so that authenticating a request costs no query.
 * Ending a session drops its entries at once; the TTL bounds how long another process's
 * revocation can go unseen when no cross-process invalidation is configured.
 */
export class SessionCache {
  readonly #byDigest = new Map<string, Entry>();
  readonly #digestsBySession = new Map<string, Set<string>>();
  /**
   * Sessions ended lately. A request that read its session from the database just before
   * the session ended must not put it back into the cache just after.
   */
  readonly #ended = new Map<string, number>();
  #onRevoke: ((revocation: Revocation) => void) | undefined;
  /** False while revocations made by other processes cannot be heard: nothing is cached then. */
  #trusted = true;

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  /**
   * Cross-process invalidation: `listener` hears every revocation made in this process (to
   * tell the others); `apply` takes theirs. Until `trust(true)`, nothing is served from the cache.
   */
  share(listener: (revocation: Revocation) => void): void {
    this.#onRevoke = listener;
    this.trust(false);
  }

  /** Revocations made by another process: applied here, not announced again. */
  apply(revocation: Revocation): void {
    for (const digest of revocation.tokens ?? []) this.#forgetToken(digest);
    this.#forgetSessions(revocation.sessions ?? []);
  }

  /**
   * Whether the revocations of other processes are being heard. Either way the cache is
   * emptied: what was missed while they were not cannot be known.
   */
  trust(heard: boolean): void {
    this.#trusted = heard;
    this.#byDigest.clear();
    this.#digestsBySession.clear();
  }

  get(digest: string): AuthenticatedSession | undefined {
    if (!this.#trusted) return undefined;
    const entry = this.#byDigest.get(digest);
    if (entry === undefined) return undefined;
    const now = this.clock.now();
    if (entry.cachedUntil <= now || entry.session.validUntil <= now) {
      this.#remove(digest, entry.session.sessionId);
      return undefined;
    }
    return entry.session;
  }

  set(digest: string, session: AuthenticatedSession): void {
    if (this.ttlMs === 0 || this.maxEntries === 0 || !this.#trusted) return;
    const endedUntil = this.#ended.get(session.sessionId);
    if (endedUntil !== undefined) {
      if (endedUntil > this.clock.now()) return;
      this.#ended.delete(session.sessionId);
    }
    if (this.#byDigest.size >= this.maxEntries) {
      const oldest = this.#byDigest.entries().next().value;
      if (oldest !== undefined) this.#remove(oldest[0], oldest[1].session.sessionId);
    }
    this.#byDigest.set(digest, { session, cachedUntil: this.clock.now() + this.ttlMs });
    let digests = this.#digestsBySession.get(session.sessionId);
    if (digests === undefined) {
      digests = new Set();
      this.#digestsBySession.set(session.sessionId, digests);
    }
    digests.add(digest);
  }

  forgetToken(digest: string): void {
    this.#forgetToken(digest);
    this.#onRevoke?.({ tokens: [digest] });
  }

  forgetSessions(sessionIds: Iterable<string>): void {
    const ids = [...sessionIds];
    if (ids.length === 0) return;
    this.#forgetSessions(ids);
    this.#onRevoke?.({ sessions: ids });
  }

  #forgetToken(digest: string): void {
    const entry = this.#byDigest.get(digest);
    if (entry !== undefined) this.#remove(digest, entry.session.sessionId);
  }

  #forgetSessions(sessionIds: Iterable<string>): void {
    const now = this.clock.now();
    if (this.#ended.size > this.maxEntries) {
      for (const [sessionId, until] of this.#ended) if (until <= now) this.#ended.delete(sessionId);
    }
    for (const sessionId of sessionIds) {
      if (this.ttlMs > 0) this.#ended.set(sessionId, now + this.ttlMs);
      for (const digest of this.#digestsBySession.get(sessionId) ?? []) this.#byDigest.delete(digest);
      this.#digestsBySession.delete(sessionId);
    }
  }

  #remove(digest: string, sessionId: string): void {
    this.#byDigest.delete(digest);
    const digests = this.#digestsBySession.get(sessionId);
    digests?.delete(digest);
    if (digests?.size === 0) this.#digestsBySession.delete(sessionId);
  }
}
