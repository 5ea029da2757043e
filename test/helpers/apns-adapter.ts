/** What the APNs adapter's tests share: a clock, the fake APNs, adapters and messages. */
import { sign } from 'node:crypto';
import { afterEach, beforeEach } from 'vitest';
import type { PushAdapter, PushMessage, PushResult } from '../../src/delivery/providers/adapter.js';
import {
  type ApnsAdapterOptions,
  createApnsAdapter,
} from '../../src/delivery/providers/apns/apns.adapter.js';
import type { ApnsCredentials } from '../../src/delivery/providers/apns/apns.config.js';
import {
  type ApnsJwt,
  type ApnsJwtStore,
  createMemoryApnsJwtStore,
} from '../../src/delivery/providers/shared/apns-jwts.js';
import {
  apnsFixtures,
  TEST_APNS_BUNDLE_ID,
  TEST_APNS_KEY_ID,
  TEST_APNS_TEAM_ID,
} from '../fakes/apns-fixtures.js';
import { type FakeApns, type FakeApnsOptions, startFakeApns } from '../fakes/apns-server.js';
import { pushMessage } from '../fakes/push-message.js';
import { ManualClock } from './clock.js';

export const MINUTE = 60_000;

/** The test clock; a new one before every test. */
export let clock: ManualClock;
let cleanups: Array<() => Promise<void>>;
let tokenCounter = 0;

/** A new clock before every test of the calling file, and its fakes and adapters closed after it. */
export function useApnsTestbed(): void {
  beforeEach(() => {
    clock = new ManualClock();
    cleanups = [];
  });
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });
}

export async function startFake(options: FakeApnsOptions = {}): Promise<FakeApns> {
  const fake = await startFakeApns({ clock, ...options });
  cleanups.push(() => fake.close());
  return fake;
}

/** An adapter with a store of its own (tests of the shared default say so). */
export function createAdapter(
  credentials: ApnsCredentials,
  options: Partial<ApnsAdapterOptions> = {},
): PushAdapter {
  const adapter = createApnsAdapter(credentials, {
    clock,
    providerTokens: createMemoryApnsJwtStore(),
    ...options,
  });
  cleanups.push(() => adapter.close());
  return adapter;
}

export function newToken(): string {
  tokenCounter += 1;
  return `${tokenCounter.toString(16).padStart(8, '0')}${'ab'.repeat(28)}`;
}

export function message(overrides: Partial<PushMessage> = {}): PushMessage {
  return pushMessage(clock.now(), {
    token: newToken(),
    bundleId: TEST_APNS_BUNDLE_ID,
    environment: 'production',
    data: { device_id: 'cam-1' },
    sound: 'default',
    badge: 1,
    expiresAt: clock.now() + 10 * MINUTE,
    ...overrides,
  });
}

export async function sendOne(adapter: PushAdapter, push: PushMessage): Promise<PushResult> {
  const [result] = await adapter.send([push]);
  if (result === undefined) throw new Error('no result');
  return result;
}

export function requestsFor(fake: FakeApns, token: string) {
  return fake.received.filter((request) => request.token === token);
}

/** A JWT for the fixture key with any `iat`, as another process (or a skewed clock) made it. */
export function jwtAt(iatSeconds: number): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${part({ alg: 'ES256', kid: TEST_APNS_KEY_ID })}.${part({ iss: TEST_APNS_TEAM_ID, iat: iatSeconds })}`;
  const signature = sign('sha256', Buffer.from(input), {
    key: apnsFixtures.signingKey,
    dsaEncoding: 'ieee-p1363',
  });
  return `${input}.${signature.toString('base64url')}`;
}

/** A store that records its traffic. */
export function recordingStore(): ApnsJwtStore & { keys: string[]; sets: ApnsJwt[] } {
  const inner = createMemoryApnsJwtStore();
  const keys: string[] = [];
  const sets: ApnsJwt[] = [];
  return {
    keys,
    sets,
    get: (key) => {
      keys.push(key);
      return inner.get(key);
    },
    replace: (key, expected, next) => {
      keys.push(key);
      sets.push(next);
      return inner.replace(key, expected, next);
    },
  };
}
