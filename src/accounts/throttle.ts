import type { Clock } from '../clock.js';
import { AppError } from '../errors.js';

interface Window {
  count: number;
  resetsAt: number;
  blockedUntil: number;
}

/**
 * Fixed-window counters that block a key for a while once it passes its limit. Blocks always
 * end (`blockMs`), so a key can be slowed down but never locked out for good.
 */
export class WindowCounter {
  readonly #windows = new Map<string, Window>();

  constructor(
    private readonly clock: Clock,
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly blockMs: number,
  ) {}

  /** Milliseconds until `key` may act again; 0 when it may act now. */
  blockedFor(key: string): number {
    const window = this.#windows.get(key);
    if (window === undefined) return 0;
    const now = this.clock.now();
    return Math.max(0, window.blockedUntil - now);
  }

  /** Counts one event; returns the block it caused or is under (ms), 0 when within the limit. */
  hit(key: string): number {
    const now = this.clock.now();
    let window = this.#windows.get(key);
    if (window === undefined || (window.resetsAt <= now && window.blockedUntil <= now)) {
      this.#sweep(now);
      window = { count: 0, resetsAt: now + this.windowMs, blockedUntil: 0 };
      this.#windows.set(key, window);
    }
    if (window.blockedUntil > now) return window.blockedUntil - now;
    window.count += 1;
    if (window.count > this.limit) {
      window.blockedUntil = now + this.blockMs;
      window.resetsAt = window.blockedUntil;
      window.count = 0;
      return this.blockMs;
    }
    return 0;
  }

  reset(key: string): void {
    this.#windows.delete(key);
  }

  #sweep(now: number): void {
    if (this.#windows.size < 10_000) return;
    for (const [key, window] of this.#windows) {
      if (window.resetsAt <= now && window.blockedUntil <= now) this.#windows.delete(key);
    }
  }
}

/** A WindowCounter wherever it lives: this process, or shared by every process (Redis). */
export interface Counter {
  /** Milliseconds until `key` may act again; 0 when it may act now. */
  blockedFor(key: string): Promise<number>;
  /** Counts one event; returns the block it caused or is under (ms), 0 when within the limit. */
  hit(key: string): Promise<number>;
  reset(key: string): Promise<void>;
}

/** Makes the counter called `name` with these rules. */
export type CounterFactory = (name: string, limit: number, windowMs: number, blockMs: number) => Counter;

/** Counters in this process's memory. */
export function localCounters(clock: Clock): CounterFactory {
  return (_name, limit, windowMs, blockMs) => {
    const counter = new WindowCounter(clock, limit, windowMs, blockMs);
    return {
      blockedFor: async (key) => counter.blockedFor(key),
      hit: async (key) => counter.hit(key),
      reset: async (key) => counter.reset(key),
    };
  };
}

export interface ThrottleLimits {
  authPerIp: number;
  authWindowSeconds: number;
  failuresPerAccountAndIp: number;
  failuresPerAccount: number;
  failureWindowSeconds: number;
  blockSeconds: number;
}

function rateLimited(ms: number): AppError {
  return new AppError('RATE_LIMITED', { retryAfterSeconds: Math.max(1, Math.ceil(ms / 1000)) });
}

/**
 * What failed passwords are counted against: the account, whichever of its names (user name,
 * e-mail, phone) the client typed, so that switching names buys no extra guesses; a text that
 * names no account is counted against itself, so that unknown names cost the same.
 */
export const throttleKey = {
  account: (userId: number): string => `user:${userId}`,
  unknownLogin: (text: string): string => `login:${text.trim().toLowerCase()}`,
};

/**
 * Brute-force protection for login, registration and refresh: a request budget per client
 * address, and failed-password counters per account from one address and per account overall.
 * An account blocked overall (a distributed guessing attack) still accepts logins from the
 * addresses it last logged in from, so an attacker cannot lock its owner out.
 */
export function createAuthThrottle(
  clock: Clock,
  limits: ThrottleLimits,
  counters: CounterFactory = localCounters(clock),
) {
  const perIp = counters(
    'ip',
    limits.authPerIp,
    limits.authWindowSeconds * 1000,
    limits.authWindowSeconds * 1000,
  );
  const failureWindow = limits.failureWindowSeconds * 1000;
  const block = limits.blockSeconds * 1000;
  // A failure is counted after it happened: the Nth failure itself starts the block.
  const perAccountAndIp = counters('account-ip', limits.failuresPerAccountAndIp - 1, failureWindow, block);
  const perAccount = counters('account', limits.failuresPerAccount - 1, failureWindow, block);
  const knownAddressMs = 30 * 24 * 3600 * 1000;
  const knownAddresses = new Map<string, number>();
  const isKnownAddress = (key: string) => (knownAddresses.get(key) ?? 0) > clock.now();

  return {
    /** Spends one request of the address's budget; throws 429 when it is used up. */
    async checkRequest(ip: string): Promise<void> {
      const blocked = await perIp.hit(ip);
      if (blocked > 0) throw rateLimited(blocked);
    },
    /** Throws 429 while the account (a throttleKey) is blocked for this address. */
    async checkAccount(account: string, ip: string): Promise<void> {
      const key = `${account}\u0000${ip}`;
      const [pair, overall] = await Promise.all([
        perAccountAndIp.blockedFor(key),
        isKnownAddress(key) ? 0 : perAccount.blockedFor(account),
      ]);
      const blocked = Math.max(pair, overall);
      if (blocked > 0) throw rateLimited(blocked);
    },
    async recordFailure(account: string, ip: string): Promise<void> {
      await Promise.all([perAccountAndIp.hit(`${account}\u0000${ip}`), perAccount.hit(account)]);
    },
    async recordSuccess(account: string, ip: string): Promise<void> {
      const key = `${account}\u0000${ip}`;
      await perAccountAndIp.reset(key);
      if (knownAddresses.size >= 100_000) knownAddresses.delete(knownAddresses.keys().next().value ?? '');
      knownAddresses.delete(key);
      knownAddresses.set(key, clock.now() + knownAddressMs);
    },
  };
}

export type AuthThrottle = ReturnType<typeof createAuthThrottle>;
