import { describe, expect, it } from 'vitest';
import {
  TEST_APNS_KEY_ID,
  TEST_APNS_TEAM_ID,
  testApnsTokenCredentials,
} from '../../../../test/fakes/apns-fixtures.js';
import {
  clock,
  createAdapter,
  jwtAt,
  MINUTE,
  message,
  recordingStore,
  requestsFor,
  sendOne,
  startFake,
  useApnsTestbed,
} from '../../../../test/helpers/apns-adapter.js';
import type { ApnsJwtStore } from '../shared/apns-jwts.js';

useApnsTestbed();

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
