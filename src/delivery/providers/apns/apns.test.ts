import { generateKeyPairSync, sign } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  apnsFixtures,
  TEST_APNS_BUNDLE_ID,
  TEST_APNS_KEY_ID,
  TEST_APNS_TEAM_ID,
  testApnsCertificateCredentials,
  testApnsTokenCredentials,
} from '../../../../test/fakes/apns-fixtures.js';
import { type FakeApns, type FakeApnsOptions, startFakeApns } from '../../../../test/fakes/apns-server.js';
import { pushMessage } from '../../../../test/fakes/push-message.js';
import { ManualClock } from '../../../../test/helpers/clock.js';
import type { PushAdapter, PushMessage, PushResult } from '../adapter.js';
import { type ApnsJwt, type ApnsJwtStore, createMemoryApnsJwtStore } from '../shared/apns-jwts.js';
import { type ApnsAdapterOptions, createApnsAdapter } from './apns.adapter.js';
import type { ApnsCredentials } from './apns.config.js';

const MINUTE = 60_000;

let clock: ManualClock;
let cleanups: Array<() => Promise<void>>;
let tokenCounter = 0;

beforeEach(() => {
  clock = new ManualClock();
  cleanups = [];
});

afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function startFake(options: FakeApnsOptions = {}): Promise<FakeApns> {
  const fake = await startFakeApns({ clock, ...options });
  cleanups.push(() => fake.close());
  return fake;
}

/** An adapter with a store of its own (tests of the shared default say so). */
function createAdapter(credentials: ApnsCredentials, options: Partial<ApnsAdapterOptions> = {}): PushAdapter {
  const adapter = createApnsAdapter(credentials, {
    clock,
    providerTokens: createMemoryApnsJwtStore(),
    ...options,
  });
  cleanups.push(() => adapter.close());
  return adapter;
}

function newToken(): string {
  tokenCounter += 1;
  return `${tokenCounter.toString(16).padStart(8, '0')}${'ab'.repeat(28)}`;
}

function message(overrides: Partial<PushMessage> = {}): PushMessage {
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

async function sendOne(adapter: PushAdapter, push: PushMessage): Promise<PushResult> {
  const [result] = await adapter.send([push]);
  if (result === undefined) throw new Error('no result');
  return result;
}

function requestsFor(fake: FakeApns, token: string) {
  return fake.received.filter((request) => request.token === token);
}

/** A JWT for the fixture key with any `iat`, as another process (or a skewed clock) made it. */
function jwtAt(iatSeconds: number): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${part({ alg: 'ES256', kid: TEST_APNS_KEY_ID })}.${part({ iss: TEST_APNS_TEAM_ID, iat: iatSeconds })}`;
  const signature = sign('sha256', Buffer.from(input), {
    key: apnsFixtures.signingKey,
    dsaEncoding: 'ieee-p1363',
  });
  return `${input}.${signature.toString('base64url')}`;
}

/** A store that records its traffic. */
function recordingStore(): ApnsJwtStore & { keys: string[]; sets: ApnsJwt[] } {
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

describe('APNs adapter: requests', () => {
  it('sends a message as an alert and a ring as a VoIP push', async () => {
    const fake = await startFake();
    const adapter = createAdapter(testApnsTokenCredentials(fake));
    const alert = message({ collapseId: 'door-1', badge: 4 });
    const ring = message({ channel: 'ring', sound: 'ring.caf', data: { call_id: 'c-9' } });

    expect(await adapter.send([alert, ring])).toEqual([
      { ok: true, providerMessageId: alert.deliveryId },
      { ok: true, providerMessageId: ring.deliveryId },
    ]);

    const [sentAlert] = requestsFor(fake, alert.token);
    expect(sentAlert?.path).toBe(`/3/device/${alert.token}`);
    expect(sentAlert?.method).toBe('POST');
    expect(sentAlert?.headers).toMatchObject({
      'apns-push-type': 'alert',
      'apns-topic': TEST_APNS_BUNDLE_ID,
      'apns-priority': '10',
      'apns-expiration': String(Math.floor(alert.expiresAt / 1000)),
      'apns-id': alert.deliveryId,
      'apns-collapse-id': 'door-1',
      'content-type': 'application/json',
    });
    expect(sentAlert?.headers.authorization).toMatch(/^bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    expect(sentAlert?.jwtHeader).toEqual({ alg: 'ES256', kid: TEST_APNS_KEY_ID });
    expect(sentAlert?.jwtClaims).toEqual({ iss: TEST_APNS_TEAM_ID, iat: Math.floor(clock.now() / 1000) });
    expect(sentAlert?.payload).toEqual({
      aps: { alert: { title: 'Front door', body: 'Someone is at the door' }, sound: 'default', badge: 4 },
      device_id: 'cam-1',
    });

    const [sentRing] = requestsFor(fake, ring.token);
    expect(sentRing?.headers).toMatchObject({
      'apns-push-type': 'voip',
      'apns-topic': `${TEST_APNS_BUNDLE_ID}.voip`,
      'apns-priority': '10',
      'apns-id': ring.deliveryId,
    });
    expect(sentRing?.headers).not.toHaveProperty('apns-collapse-id');
    expect(sentRing?.payload).toEqual({
      aps: { alert: { title: 'Front door', body: 'Someone is at the door' }, sound: 'ring.caf' },
      call_id: 'c-9',
    });
  });

  it('sends sandbox tokens to the sandbox host and the rest to production', async () => {
    const production = await startFake();
    const sandbox = await startFake();
    const adapter = createAdapter(testApnsTokenCredentials(production, sandbox));
    const pushes = [
      message({ environment: 'sandbox' }),
      message({ environment: 'production' }),
      message({ environment: null }),
    ];
    const results = await adapter.send(pushes);
    expect(results.every((result) => result.ok)).toBe(true);
    expect(sandbox.received.map((request) => request.token)).toEqual([pushes[0]?.token]);
    expect(production.received.map((request) => request.token).sort()).toEqual(
      [pushes[1]?.token, pushes[2]?.token].sort(),
    );
    expect(sandbox.received[0]?.authority).toBe(new URL(sandbox.url).host);
  });

  it('keeps apns-id and the expiration across retries of a delivery', async () => {
    const fake = await startFake();
    const adapter = createAdapter(testApnsTokenCredentials(fake));
    const push = message({ expiresAt: clock.now() + 30_999 });
    fake.script(push.token, [{ status: 503, reason: 'ServiceUnavailable' }]);

    expect(await sendOne(adapter, push)).toEqual({
      ok: false,
      failure: 'retry',
      reason: 'ServiceUnavailable',
    });
    clock.advance(5_000);
    expect(await sendOne(adapter, push)).toEqual({ ok: true, providerMessageId: push.deliveryId });

    const sent = requestsFor(fake, push.token);
    expect(sent.map((request) => request.headers['apns-id'])).toEqual([push.deliveryId, push.deliveryId]);
    expect(sent.map((request) => request.headers['apns-expiration'])).toEqual([
      String(Math.floor(push.expiresAt / 1000)),
      String(Math.floor(push.expiresAt / 1000)),
    ]);
  });

  it('gives one result per message, in order', async () => {
    const fake = await startFake();
    const adapter = createAdapter(testApnsTokenCredentials(fake));
    const pushes = Array.from({ length: 30 }, () => message());
    pushes.forEach((push, index) => {
      if (index % 3 === 1) fake.script(push.token, [{ status: 410, reason: 'Unregistered' }]);
      if (index % 3 === 2) fake.script(push.token, [{ status: 429, reason: 'TooManyRequests' }]);
    });
    const results = await adapter.send(pushes);
    results.forEach((result, index) => {
      if (index % 3 === 0) expect(result).toEqual({ ok: true, providerMessageId: pushes[index]?.deliveryId });
      if (index % 3 === 1) expect(result).toEqual({ ok: false, failure: 'dead', reason: 'Unregistered' });
      if (index % 3 === 2) expect(result).toEqual({ ok: false, failure: 'retry', reason: 'TooManyRequests' });
    });
  });
});

describe('APNs adapter: answers', () => {
  it.each([
    [410, 'Unregistered', 'dead'],
    [410, 'ExpiredToken', 'dead'],
    [400, 'BadDeviceToken', 'dead'],
    [400, 'DeviceTokenNotForTopic', 'dead'],
    [403, 'InvalidProviderToken', 'creds'],
    [403, 'BadCertificateEnvironment', 'creds'],
    [403, 'Forbidden', 'creds'],
    [400, 'TopicDisallowed', 'creds'],
    [429, 'TooManyRequests', 'retry'],
    [503, 'ServiceUnavailable', 'retry'],
    [500, 'InternalServerError', 'retry'],
    [400, 'IdleTimeout', 'retry'],
    [413, 'PayloadTooLarge', 'bad_request'],
    [400, 'BadCollapseId', 'bad_request'],
  ] as const)('%i %s → %s', async (status, reason, failure) => {
    const fake = await startFake();
    const adapter = createAdapter(testApnsTokenCredentials(fake));
    const push = message();
    fake.script(push.token, [{ status, reason }]);
    expect(await sendOne(adapter, push)).toEqual({ ok: false, failure, reason });
  });

  it('passes Retry-After on as retryAfterMs', async () => {
    const fake = await startFake();
    const adapter = createAdapter(testApnsTokenCredentials(fake));
    const push = message();
    fake.script(push.token, [{ status: 429, reason: 'TooManyRequests', headers: { 'retry-after': '30' } }]);
    expect(await sendOne(adapter, push)).toEqual({
      ok: false,
      failure: 'retry',
      reason: 'TooManyRequests',
      retryAfterMs: 30_000,
    });
  });

  it('is dead on a token APNs has unregistered', async () => {
    const fake = await startFake();
    const adapter = createAdapter(testApnsTokenCredentials(fake));
    const push = message();
    fake.unregister(push.token);
    expect(await sendOne(adapter, push)).toEqual({ ok: false, failure: 'dead', reason: 'Unregistered' });
  });

  it('is creds when APNs rejects the signature (another key under the same ids)', async () => {
    const fake = await startFake();
    const wrongKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    const adapter = createAdapter({ ...testApnsTokenCredentials(fake), key: wrongKey });
    expect(await sendOne(adapter, message())).toEqual({
      ok: false,
      failure: 'creds',
      reason: 'InvalidProviderToken',
    });
  });

  it('is creds for a key id or team APNs does not know', async () => {
    const fake = await startFake();
    const unknownKey = createAdapter({ ...testApnsTokenCredentials(fake), key_id: 'OTHERKEY12' });
    expect(await sendOne(unknownKey, message())).toEqual({
      ok: false,
      failure: 'creds',
      reason: 'InvalidProviderToken',
    });
    const otherTeam = createAdapter({ ...testApnsTokenCredentials(fake), team_id: 'OTHERTEAM1' });
    expect(await sendOne(otherTeam, message())).toEqual({
      ok: false,
      failure: 'creds',
      reason: 'InvalidProviderToken',
    });
  });

  it('answers what APNs would, without sending, for requests APNs would refuse', async () => {
    const fake = await startFake();
    const adapter = createAdapter(testApnsTokenCredentials(fake));
    const results = await adapter.send([
      message({ token: '<740f4707 bebcf74f>' }),
      message({ token: 'abc' }),
      message({ data: { blob: 'x'.repeat(4100) } }),
      message({ collapseId: 'c'.repeat(65) }),
      message({ bundleId: '' }),
      message({ expiresAt: clock.now() }),
    ]);
    expect(results).toEqual([
      { ok: false, failure: 'dead', reason: 'BadDeviceToken' },
      { ok: false, failure: 'dead', reason: 'BadDeviceToken' },
      { ok: false, failure: 'bad_request', reason: 'PayloadTooLarge' },
      { ok: false, failure: 'bad_request', reason: 'BadCollapseId' },
      { ok: false, failure: 'bad_request', reason: 'MissingTopic' },
      { ok: false, failure: 'bad_request', reason: 'expired' },
    ]);
    expect(fake.received).toHaveLength(0);
  });

  it('allows VoIP payloads up to 5120 bytes and alerts up to 4096', async () => {
    const fake = await startFake();
    const adapter = createAdapter(testApnsTokenCredentials(fake));
    const ring = message({ channel: 'ring', data: { blob: 'x'.repeat(4600) } });
    const alert = message({ data: { blob: 'x'.repeat(3900) } });
    expect(await adapter.send([ring, alert])).toEqual([
      { ok: true, providerMessageId: ring.deliveryId },
      { ok: true, providerMessageId: alert.deliveryId },
    ]);
  });
});

describe('APNs adapter: JWTs', () => {
  it('uses one JWT for many sends and for every adapter of the key (the default store)', async () => {
    const fake = await startFake({ tokenUpdateMinIntervalMs: 20 * MINUTE });
    const first = createAdapter(testApnsTokenCredentials(fake), { providerTokens: undefined });
    const second = createAdapter(testApnsTokenCredentials(fake), { providerTokens: undefined });
    for (let i = 0; i < 10; i += 1) expect((await sendOne(first, message())).ok).toBe(true);
    const results = await Promise.all([
      first.send(Array.from({ length: 200 }, () => message())),
      second.send(Array.from({ length: 200 }, () => message())),
      second.send(Array.from({ length: 200 }, () => message({ channel: 'ring' }))),
    ]);
    expect(results.flat().every((result) => result.ok)).toBe(true);
    expect(fake.received).toHaveLength(610);
    expect(fake.distinctJwts()).toBe(1);
  });

  it('signs anew once the JWT is 50 minutes old, not before', async () => {
    const fake = await startFake({ tokenUpdateMinIntervalMs: 20 * MINUTE });
    const adapter = createAdapter(testApnsTokenCredentials(fake));
    expect((await sendOne(adapter, message())).ok).toBe(true);
    clock.advance(49 * MINUTE);
    expect((await sendOne(adapter, message())).ok).toBe(true);
    expect(fake.distinctJwts()).toBe(1);
    clock.advance(2 * MINUTE);
    expect((await sendOne(adapter, message())).ok).toBe(true);
    expect(fake.distinctJwts()).toBe(2);
    expect(fake.received.at(-1)?.jwtClaims?.iat).toBe(Math.floor(clock.now() / 1000));
    clock.advance(10 * MINUTE);
    expect((await sendOne(adapter, message())).ok).toBe(true);
    expect(fake.distinctJwts()).toBe(2);
  });

  it('honours a custom refresh age and store, shared by two adapters', async () => {
    const fake = await startFake();
    const store = recordingStore();
    const options = { providerTokens: store, jwtRefreshAgeMs: 30 * MINUTE };
    const first = createAdapter(testApnsTokenCredentials(fake), options);
    const second = createAdapter(testApnsTokenCredentials(fake), options);
    expect((await sendOne(first, message())).ok).toBe(true);
    expect((await sendOne(second, message())).ok).toBe(true);
    clock.advance(31 * MINUTE);
    expect((await sendOne(second, message())).ok).toBe(true);
    expect((await sendOne(first, message())).ok).toBe(true);
    expect(fake.distinctJwts()).toBe(2);
    expect(store.sets).toHaveLength(2);
    expect(new Set(store.keys).size).toBe(1);
    expect(store.keys[0]).toMatch(new RegExp(`^${TEST_APNS_TEAM_ID}/${TEST_APNS_KEY_ID}/[0-9a-f]{16}$`));
  });

  it('refuses a refresh age outside 20–55 minutes', async () => {
    const fake = await startFake();
    expect(() => createAdapter(testApnsTokenCredentials(fake), { jwtRefreshAgeMs: 10 * MINUTE })).toThrow(
      /between 20 and 55 minutes/,
    );
    expect(() => createAdapter(testApnsTokenCredentials(fake), { jwtRefreshAgeMs: 60 * MINUTE })).toThrow(
      /between 20 and 55 minutes/,
    );
  });

  it('on 403 ExpiredProviderToken signs a new JWT once and delivers', async () => {
    const fake = await startFake();
    const store = recordingStore();
    // Another process stored a JWT it thinks is 30 minutes old; APNs sees an iat 2 hours old.
    const stale = {
      jwt: jwtAt(Math.floor(clock.now() / 1000) - 2 * 3600),
      issuedAt: clock.now() - 30 * MINUTE,
    };
    const adapter = createAdapter(testApnsTokenCredentials(fake), { providerTokens: store });
    const [key] = await (async () => {
      await sendOne(createAdapter(testApnsTokenCredentials(fake), { providerTokens: store }), message());
      return store.keys;
    })();
    if (key === undefined) throw new Error('no storage key');
    await store.replace(key, await store.get(key), stale);
    fake.reset();

    const push = message();
    expect(await sendOne(adapter, push)).toEqual({ ok: true, providerMessageId: push.deliveryId });
    const sent = requestsFor(fake, push.token);
    expect(sent.map((request) => request.answer.status)).toEqual([403, 200]);
    expect(sent[0]?.answer.reason).toBe('ExpiredProviderToken');
    expect(sent[0]?.jwt).toBe(stale.jwt);
    expect(sent[1]?.jwt).not.toBe(stale.jwt);
    expect(sent[1]?.jwtClaims?.iat).toBe(Math.floor(clock.now() / 1000));
    expect((await store.get(key))?.jwt).toBe(sent[1]?.jwt);
  });

  it('regenerates at most once per delivery, then answers retry', async () => {
    const fake = await startFake();
    const adapter = createAdapter(testApnsTokenCredentials(fake));
    expect((await sendOne(adapter, message())).ok).toBe(true);
    clock.advance(25 * MINUTE);
    const push = message();
    fake.script(push.token, [
      { status: 403, reason: 'ExpiredProviderToken' },
      { status: 403, reason: 'ExpiredProviderToken' },
    ]);
    expect(await sendOne(adapter, push)).toEqual({
      ok: false,
      failure: 'retry',
      reason: 'ExpiredProviderToken',
    });
    expect(requestsFor(fake, push.token)).toHaveLength(2);
    expect(fake.distinctJwts()).toBe(2);
  });

  it('does not regenerate a JWT younger than 20 minutes on ExpiredProviderToken', async () => {
    const fake = await startFake();
    const adapter = createAdapter(testApnsTokenCredentials(fake));
    expect((await sendOne(adapter, message())).ok).toBe(true);
    clock.advance(19 * MINUTE);
    const push = message();
    fake.script(push.token, [{ status: 403, reason: 'ExpiredProviderToken' }]);
    expect(await sendOne(adapter, push)).toEqual({
      ok: false,
      failure: 'retry',
      reason: 'ExpiredProviderToken',
    });
    expect(requestsFor(fake, push.token)).toHaveLength(1);
    expect(fake.distinctJwts()).toBe(1);
  });

  it('answers retry when the token store fails, never throws', async () => {
    const fake = await startFake();
    const broken: ApnsJwtStore = {
      get: () => Promise.reject(new Error('database down')),
      replace: () => Promise.reject(new Error('database down')),
    };
    const adapter = createAdapter(testApnsTokenCredentials(fake), { providerTokens: broken });
    expect(await sendOne(adapter, message())).toEqual({
      ok: false,
      failure: 'retry',
      reason: 'provider_token_unavailable',
    });
  });
});

describe('APNs adapter: connections', () => {
  it('reuses one connection for sequential sends', async () => {
    const fake = await startFake();
    const adapter = createAdapter(testApnsTokenCredentials(fake));
    for (let i = 0; i < 5; i += 1) expect((await sendOne(adapter, message())).ok).toBe(true);
    expect(fake.stats.connections).toBe(1);
  });

  it('sends 2,000 concurrent pushes over at most maxConnections connections', async () => {
    const fake = await startFake({ responseDelayMs: 1, tokenUpdateMinIntervalMs: 20 * MINUTE });
    const adapter = createAdapter(testApnsTokenCredentials(fake), { maxConnections: 2 });
    const batch = Array.from({ length: 1000 }, (_, index) =>
      message({ channel: index % 2 === 0 ? 'ring' : 'message' }),
    );
    const singles = Array.from({ length: 1000 }, () => message());
    const [batchResults, singleResults] = await Promise.all([
      adapter.send(batch),
      Promise.all(singles.map((push) => sendOne(adapter, push))),
    ]);
    expect([...batchResults, ...singleResults].filter((result) => !result.ok)).toEqual([]);
    expect(fake.received).toHaveLength(2000);
    expect(new Set(fake.received.map((request) => request.token)).size).toBe(2000);
    expect(fake.stats.connections).toBeLessThanOrEqual(2);
    expect(fake.stats.maxStreamsInFlight).toBeGreaterThan(1);
    // One stream per connection until the JWT was accepted, as APNs requires.
    expect(fake.stats.streamsBeforeAuth).toBe(0);
    expect(fake.distinctJwts()).toBe(1);
  });

  it('keeps within a small server stream limit', async () => {
    const fake = await startFake({ maxConcurrentStreams: 5, responseDelayMs: 1 });
    const adapter = createAdapter(testApnsTokenCredentials(fake), { maxConnections: 1 });
    const results = await adapter.send(Array.from({ length: 200 }, () => message()));
    expect(results.every((result) => result.ok)).toBe(true);
    expect(fake.stats.maxStreamsInFlight).toBeLessThanOrEqual(5);
    expect(fake.stats.connections).toBe(1);
  });

  it('after a GOAWAY mid-batch answers retry for what went unanswered and reconnects', async () => {
    const fake = await startFake();
    const adapter = createAdapter(testApnsTokenCredentials(fake), { maxConnections: 1 });
    const batch = Array.from({ length: 100 }, () => message());
    fake.script(batch[49]?.token ?? '', [{ action: 'goaway' }]);

    const results = await adapter.send(batch);
    expect(results[49]).toEqual({ ok: false, failure: 'retry', reason: 'connection_lost' });
    for (const result of results) {
      expect([true, 'connection_lost']).toContain(result.ok ? true : result.reason);
    }
    expect(results.filter((result) => result.ok).length).toBeGreaterThan(0);
    expect(fake.stats.goaways).toBe(1);

    const again = batch.filter((_, index) => !results[index]?.ok);
    expect((await adapter.send(again)).every((result) => result.ok)).toBe(true);
    expect(fake.stats.connections).toBe(2);
    for (const push of again) expect(requestsFor(fake, push.token).at(-1)?.connection).toBe(2);
  });

  it('rides out a period of GOAWAYs and of 503s', async () => {
    const fake = await startFake();
    const adapter = createAdapter(testApnsTokenCredentials(fake));
    expect((await sendOne(adapter, message())).ok).toBe(true);

    fake.setOutage('goaway', MINUTE);
    const lost = { ok: false, failure: 'retry', reason: 'connection_lost' };
    expect(await adapter.send([message(), message(), message()])).toEqual([lost, lost, lost]);
    // New connections that APNs sends away before any answer: then a back-off, no reconnect storm.
    expect(await adapter.send([message(), message()])).toEqual([lost, lost]);
    const connections = fake.stats.connections;
    expect(await adapter.send([message(), message()])).toEqual([lost, lost]);
    expect(fake.stats.connections).toBe(connections);
    clock.advance(MINUTE);
    expect((await adapter.send([message(), message()])).every((result) => result.ok)).toBe(true);

    fake.setOutage('unavailable');
    expect(await sendOne(adapter, message())).toEqual({
      ok: false,
      failure: 'retry',
      reason: 'ServiceUnavailable',
    });
    fake.setOutage(undefined);
    expect((await sendOne(adapter, message())).ok).toBe(true);
  });

  it('replaces every connection APNs closes', async () => {
    const fake = await startFake();
    const adapter = createAdapter(testApnsTokenCredentials(fake));
    expect(
      (await adapter.send(Array.from({ length: 50 }, () => message()))).every((result) => result.ok),
    ).toBe(true);
    const before = fake.stats.connections;
    fake.goawayAll();
    await vi.waitFor(() => expect(fake.stats.openConnections).toBe(0));
    expect(
      (await adapter.send(Array.from({ length: 50 }, () => message()))).every((result) => result.ok),
    ).toBe(true);
    expect(fake.stats.connections).toBeGreaterThan(before);
  });

  it('answers retry for a request APNs never answers, and keeps the connection', async () => {
    const fake = await startFake();
    const adapter = createAdapter(testApnsTokenCredentials(fake), { requestTimeoutMs: 300 });
    expect((await sendOne(adapter, message())).ok).toBe(true);
    const push = message();
    fake.script(push.token, [{ action: 'hang' }]);
    expect(await sendOne(adapter, push)).toEqual({ ok: false, failure: 'retry', reason: 'timeout' });
    expect((await sendOne(adapter, message())).ok).toBe(true);
    expect(fake.stats.connections).toBe(1);
  });

  it('answers retry for a reset stream', async () => {
    const fake = await startFake();
    const adapter = createAdapter(testApnsTokenCredentials(fake));
    const push = message();
    fake.script(push.token, [{ action: 'reset' }]);
    expect(await sendOne(adapter, push)).toEqual({ ok: false, failure: 'retry', reason: 'connection_lost' });
    expect((await sendOne(adapter, push)).ok).toBe(true);
  });

  it('answers retry when APNs cannot be reached, and does not hammer it', async () => {
    const gone = await startFakeApns({ clock });
    await gone.close();
    const adapter = createAdapter(testApnsTokenCredentials(gone));
    const [first] = await adapter.send([message()]);
    expect(first).toEqual({ ok: false, failure: 'retry', reason: 'connect_failed:ECONNREFUSED' });
    // Within the back-off: answered at once, without a new attempt.
    expect(await adapter.send([message(), message()])).toEqual(
      Array(2).fill({ ok: false, failure: 'retry', reason: 'connect_failed:ECONNREFUSED' }),
    );
    clock.advance(MINUTE);
    expect(await sendOne(adapter, message())).toEqual({
      ok: false,
      failure: 'retry',
      reason: 'connect_failed:ECONNREFUSED',
    });
  });

  it('answers retry when the server certificate is not trusted', async () => {
    const fake = await startFake();
    const { ca: _ca, ...withoutCa } = testApnsTokenCredentials(fake);
    const adapter = createAdapter(withoutCa);
    const result = await sendOne(adapter, message());
    expect(result).toMatchObject({ ok: false, failure: 'retry' });
    expect(result.ok ? '' : result.reason).toMatch(/^connect_failed:/);
    expect(fake.received).toHaveLength(0);
  });

  it('closes its connections and answers retry afterwards', async () => {
    const fake = await startFake();
    const adapter = createAdapter(testApnsTokenCredentials(fake));
    await adapter.send([message({ environment: 'sandbox' }), message()]);
    await adapter.close();
    await vi.waitFor(() => expect(fake.stats.openConnections).toBe(0));
    expect(await sendOne(adapter, message())).toEqual({
      ok: false,
      failure: 'retry',
      reason: 'adapter_closed',
    });
  });
});

describe('APNs adapter: certificate auth', () => {
  it('authenticates with the client certificate and sends no JWT', async () => {
    const fake = await startFake();
    const adapter = createAdapter(testApnsCertificateCredentials(fake));
    const pushes = [message(), message({ channel: 'ring' }), ...Array.from({ length: 50 }, () => message())];
    expect((await adapter.send(pushes)).every((result) => result.ok)).toBe(true);
    expect(fake.received).toHaveLength(52);
    for (const request of fake.received) {
      expect(request.jwt).toBeUndefined();
      expect(request.clientCertificate?.UID).toBe(TEST_APNS_BUNDLE_ID);
    }
    expect(fake.stats.connections).toBeLessThanOrEqual(2);
  });

  it('is creds when APNs does not accept the certificate', async () => {
    const fake = await startFake();
    const adapter = createAdapter({
      ...testApnsCertificateCredentials(fake),
      certificate: apnsFixtures.untrustedClientP12Base64,
    });
    expect(await sendOne(adapter, message())).toEqual({
      ok: false,
      failure: 'creds',
      reason: 'BadCertificate',
    });
  });
});

describe('createApnsAdapter', () => {
  it('refuses invalid credentials at creation', () => {
    expect(() =>
      createApnsAdapter({ team_id: 'TEAMID1234', key_id: 'KEYID12345', key: 'nope' }, { clock }),
    ).toThrow(/Invalid APNs credentials: key is not a PEM private key/);
  });
});
