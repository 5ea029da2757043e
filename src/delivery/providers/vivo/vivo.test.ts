import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { pushMessage } from '../../../../test/fakes/push-message.js';
import { type FakeVivo, type FakeVivoAnswer, startFakeVivo } from '../../../../test/fakes/vivo-server.js';
import { ManualClock } from '../../../../test/helpers/clock.js';
import { closedAfterEach } from '../../../../test/helpers/closing.js';
import type { PushAdapter, PushMessage } from '../adapter.js';
import { settingsOrThrow } from '../catalogue.js';
import { type CachedAccessToken, createMemoryAccessTokenStore } from '../shared/access-tokens.js';
import { vivoProvider } from './index.js';
import { createVivoAdapter, type VivoAdapterOptions } from './vivo.adapter.js';
import { vivoAuthTokenKey, vivoSign } from './vivo.auth.js';
import { type VivoSettings, validateVivoSettings } from './vivo.config.js';

function validSettings(target: FakeVivo): VivoSettings {
  const check = validateVivoSettings(target.credentials());
  if (!check.ok) throw new Error(check.error);
  return check.settings;
}

// 20:00 in China: the daily quotas reset in 4 hours.
const T0 = Date.UTC(2026, 10, 30, 12, 0, 0);

describe('vivo adapter against the fake vivo PUSH', () => {
  let clock: ManualClock;
  let fake: FakeVivo;
  const closing = closedAfterEach();

  const newFake = async (options: { tokenLifetimeMs?: number } = {}) => {
    return closing.fake(await startFakeVivo({ clock, ...options }));
  };

  function adapterFor(
    target: FakeVivo,
    options: Partial<VivoAdapterOptions> = {},
    settings: Record<string, unknown> = target.credentials(),
  ): PushAdapter {
    return closing.adapter(
      createVivoAdapter(settingsOrThrow('vivo', validateVivoSettings(settings)), { clock, ...options }),
    );
  }

  const message = (overrides: Partial<PushMessage> = {}): PushMessage =>
    pushMessage(clock.now(), {
      token: `reg-${randomUUID().slice(0, 8)}`,
      title: 'Battery low',
      body: 'Front door lock',
      data: { device: 'lock-1' },
      ...overrides,
    });
  const many = (count: number, overrides: Partial<PushMessage> = {}) =>
    Array.from({ length: count }, (_, i) => message({ token: `phone-${i}`, ...overrides }));

  beforeEach(async () => {
    clock = new ManualClock(T0);
    fake = await newFake();
  });
  it('authenticates with the MD5 signature and sends a ring at once with its authToken', async () => {
    const adapter = adapterFor(fake);
    const ring = message({ channel: 'ring', expiresAt: T0 + 30_000, collapseId: 'ring-1' });
    const results = await adapter.send([ring]);
    expect(results).toEqual([{ ok: true, providerMessageId: expect.stringMatching(/^\d+$/) }]);
    const [auth, send] = fake.received;
    expect(auth?.endpoint).toBe('auth');
    expect(auth?.body).toEqual({
      appId: fake.appId,
      appKey: fake.appKey,
      timestamp: T0,
      sign: vivoSign(fake.appId, fake.appKey, T0, fake.appSecret),
    });
    expect(auth?.result).toBe(0);
    expect(send?.endpoint).toBe('send');
    expect(send?.headers.authtoken).toMatch(/^1-/);
    expect(send?.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(send?.body).toMatchObject({
      appId: fake.appId,
      regId: ring.token,
      classification: 1,
      category: 'IM',
      notifyType: 4,
      timeToLive: 60,
      requestId: ring.deliveryId,
    });
  });

  it('fans a message out with one saveListPayload and one pushToList per 1000 phones', async () => {
    const adapter = adapterFor(fake);
    const results = await adapter.send(many(2500));
    expect(results.every((result) => result.ok)).toBe(true);
    expect(fake.counts).toEqual({ auth: 1, send: 0, saveListPayload: 1, pushToList: 3 });
    const lists = fake.requests('pushToList');
    expect(lists.map((entry) => entry.regIds.length).sort()).toEqual([1000, 1000, 500]);
    const saved = fake.requests('saveListPayload')[0]?.body;
    expect(saved).toMatchObject({ category: 'DEVICE_REMINDER', classification: 1, notifyType: 4 });
    expect(new Set(lists.map((entry) => entry.body?.requestId)).size).toBe(3);
    expect(fake.delivered).toBe(2500);
  });

  it('maps invalidUsers back to each phone, in order, and keeps rings out of batches', async () => {
    const adapter = adapterFor(fake);
    fake.script('phone-1', { invalidUser: 1 });
    fake.script('phone-3', { invalidUser: 2 });
    fake.script('phone-4', { invalidUser: 4 });
    const messages = many(6);
    const ring = message({ channel: 'ring', token: 'ringing', expiresAt: T0 + 30_000 });
    messages.splice(2, 0, ring);
    const results = await adapter.send(messages);
    expect(results.map((result) => (result.ok ? 'ok' : `${result.failure}:${result.reason}`))).toEqual([
      'ok',
      'dead:invalid_user_1',
      'ok',
      'ok',
      'dead:invalid_user_2',
      'bad_request:invalid_user_4',
      'ok',
    ]);
    expect(fake.counts).toMatchObject({ send: 1, saveListPayload: 1, pushToList: 1 });
    expect(fake.requests('send')[0]?.regIds).toEqual(['ringing']);
  });

  it('sends a single phone’s message and a dead single phone through message/send', async () => {
    const adapter = adapterFor(fake);
    fake.script('gone', { invalidUser: 2 });
    fake.script('bad', { result: 10302 });
    expect(await adapter.send([message({ token: 'gone' })])).toEqual([
      { ok: false, failure: 'dead', reason: 'invalid_user_2' },
    ]);
    expect(await adapter.send([message({ token: 'bad' })])).toEqual([
      { ok: false, failure: 'dead', reason: 'vivo_10302' },
    ]);
    expect(fake.counts).toMatchObject({ send: 2, saveListPayload: 0, pushToList: 0 });
  });

  it('when a list is refused for an invalid regId, finds the phone by sending each on its own', async () => {
    const adapter = adapterFor(fake);
    fake.script('phone-2', { result: 10302 });
    const results = await adapter.send(many(4));
    expect(results.map((result) => (result.ok ? 'ok' : result.reason))).toEqual([
      'ok',
      'ok',
      'vivo_10302',
      'ok',
    ]);
    expect(fake.counts).toMatchObject({ saveListPayload: 1, pushToList: 1, send: 4 });
  });

  it('classifies vivo’s answers: quotas retried at midnight in China, frequency, category, outage', async () => {
    const adapter = adapterFor(fake);
    const cases: Array<[string, FakeVivoAnswer]> = [
      ['quota', { result: 10070 }],
      ['calls', { result: 10252 }],
      ['fast', { result: 10072 }],
      ['category', { result: 10096 }],
      ['mismatch', { result: 10097 }],
      ['proxy', { status: 502, body: '<html>Bad Gateway</html>', headers: { 'retry-after': '5' } }],
      ['limited', { status: 429, body: '{}', headers: { 'retry-after': '3' } }],
    ];
    for (const [token, answer] of cases) fake.script(token, answer);
    const results = await adapter.send(cases.map(([token]) => message({ token, channel: 'ring' })));
    expect(results).toEqual([
      { ok: false, failure: 'retry', reason: 'vivo_10070', retryAfterMs: 4 * 3_600_000 },
      { ok: false, failure: 'retry', reason: 'vivo_10252', retryAfterMs: 4 * 3_600_000 },
      { ok: false, failure: 'retry', reason: 'vivo_10072' },
      { ok: false, failure: 'bad_request', reason: 'vivo_10096' },
      { ok: false, failure: 'bad_request', reason: 'vivo_10097' },
      { ok: false, failure: 'retry', reason: 'HTTP_502', retryAfterMs: 5000 },
      { ok: false, failure: 'retry', reason: 'HTTP_429', retryAfterMs: 3000 },
    ]);
  });

  it('gives a whole list the quota answer of its pushToList, and of its saveListPayload', async () => {
    const adapter = adapterFor(fake);
    fake.failNext({ result: 10070 });
    expect(await adapter.send(many(3))).toEqual(
      Array(3).fill({ ok: false, failure: 'retry', reason: 'vivo_10070', retryAfterMs: 4 * 3_600_000 }),
    );
    expect(fake.counts).toMatchObject({ saveListPayload: 1, pushToList: 0 });
    fake.script('phone-0', { result: 10252 });
    expect((await adapter.send(many(3))).map((result) => !result.ok && result.reason)).toEqual(
      Array(3).fill('vivo_10252'),
    );
  });

  it('refuses what the fake finds wrong in the body as bad_request (a category vivo does not know)', async () => {
    const adapter = adapterFor(fake, {}, { ...fake.credentials(), message_category: 'DOORBELL' });
    expect(await adapter.send([message()])).toEqual([
      { ok: false, failure: 'bad_request', reason: 'vivo_10096' },
    ]);
  });

  it('caches the authToken, replaces it after an hour, and shares it through the store', async () => {
    const entries = new Map<string, CachedAccessToken>();
    const store = {
      get: async (key: string) => entries.get(key),
      set: async (key: string, value: CachedAccessToken) => {
        entries.set(key, value);
      },
    };
    const adapter = adapterFor(fake, { accessTokens: store });
    for (let i = 0; i < 5; i += 1) {
      await adapter.send([message(), ...many(3)]);
      clock.advance(10 * 60_000);
    }
    // 50 minutes on: still the first token, for another adapter of the app too.
    expect(fake.tokensIssued).toBe(1);
    await adapterFor(fake, { accessTokens: store }).send([message()]);
    expect(fake.tokensIssued).toBe(1);
    const key = vivoAuthTokenKey(validSettings(fake));
    expect([...entries.keys()]).toEqual([key]);
    expect(key).not.toContain(fake.appSecret);
    clock.advance(10 * 60_000);
    await adapter.send([message()]);
    expect(fake.tokensIssued).toBe(2);
    expect(entries.get(key)?.expiresAt).toBe(T0 + 25 * 3_600_000);
    // Other settings of the same App ID (a wrong secret) do not borrow the token.
    const wrong = adapterFor(fake, { accessTokens: store }, { ...fake.credentials(), app_secret: 'wrong' });
    expect((await wrong.send([message()]))[0]).toMatchObject({ failure: 'creds' });
  });

  it('on an expired authToken (10000) fetches one new token, however many requests saw it, and resends', async () => {
    const short = await newFake({ tokenLifetimeMs: 30 * 60_000 });
    const adapter = adapterFor(short);
    await adapter.send([message()]);
    clock.advance(45 * 60_000);
    const results = await adapter.send([
      ...many(20).map((m) => ({ ...m, channel: 'ring' as const })),
      ...many(5),
    ]);
    expect(results.every((result) => result.ok)).toBe(true);
    expect(short.tokensIssued).toBe(2);
    const refused = short.received.filter((entry) => entry.endpoint !== 'auth' && entry.result === 10000);
    expect(refused).toHaveLength(21);
    expect(short.received.at(-1)?.result).toBe(0);
  });

  it('gives up with creds when the new token is refused too', async () => {
    const adapter = adapterFor(fake);
    fake.script('phone', { result: 10000 });
    expect(await adapter.send([message({ token: 'phone' })])).toEqual([
      { ok: false, failure: 'creds', reason: 'vivo_10000' },
    ]);
    expect(fake.tokensIssued).toBe(2);
    expect(fake.counts.send).toBe(2);
  });

  it('fails every send with creds, without sending, when the AppSecret is wrong', async () => {
    const adapter = adapterFor(fake, {}, { ...fake.credentials(), app_secret: 'wrong-secret' });
    expect(await adapter.send([message(), ...many(3)])).toEqual(
      Array(4).fill({ ok: false, failure: 'creds', reason: 'auth_vivo_10000' }),
    );
    expect(fake.counts).toEqual({ auth: 1, send: 0, saveListPayload: 0, pushToList: 0 });
  });

  it('retries when the auth endpoint is busy, over quota or unreachable', async () => {
    const adapter = adapterFor(fake);
    fake.scriptAuth([{ status: 503, body: 'busy', headers: { 'retry-after': '9' } }, { result: 10252 }]);
    expect(await adapter.send([message()])).toEqual([
      { ok: false, failure: 'retry', reason: 'auth_HTTP_503', retryAfterMs: 9000 },
    ]);
    expect(await adapter.send([message()])).toEqual([
      { ok: false, failure: 'retry', reason: 'auth_vivo_10252', retryAfterMs: 4 * 3_600_000 },
    ]);
    expect((await adapter.send([message()]))[0]?.ok).toBe(true);

    const gone = await newFake();
    const unreachable = adapterFor(gone);
    await closing.closeNow(gone);
    expect(await unreachable.send([message()])).toEqual([
      { ok: false, failure: 'retry', reason: 'auth_network_error' },
    ]);
  });

  it('returns retry, not an exception, on network faults, timeouts and TLS it cannot verify', async () => {
    const store = createMemoryAccessTokenStore();
    const adapter = adapterFor(fake, { accessTokens: store });
    fake.script('reset', 'reset');
    expect(await adapter.send([message({ token: 'reset' })])).toEqual([
      { ok: false, failure: 'retry', reason: 'network_error' },
    ]);
    const impatient = adapterFor(fake, { accessTokens: store, requestTimeoutMs: 200 });
    fake.script('slow', 'hang');
    expect(await impatient.send([message({ token: 'slow' })])).toEqual([
      { ok: false, failure: 'retry', reason: 'timeout' },
    ]);
    const { ca: _ca, ...withoutCa } = fake.credentials();
    expect(await adapterFor(fake, { accessTokens: store }, withoutCa).send([message()])).toEqual([
      { ok: false, failure: 'retry', reason: 'tls_error' },
    ]);
    fake.setOutage({ status: 500, body: '' });
    expect(await adapter.send(many(2))).toEqual(
      Array(2).fill({ ok: false, failure: 'retry', reason: 'HTTP_500' }),
    );
    fake.setOutage(undefined);
    await closing.closeNow(fake);
    expect(await adapter.send([message(), message()])).toEqual(
      Array(2).fill({ ok: false, failure: 'retry', reason: 'network_error' }),
    );
  });

  it('keeps requestId per delivery, so vivo drops a resent push', async () => {
    const adapter = adapterFor(fake);
    const ring = message({ channel: 'ring' });
    const list = many(3);
    await adapter.send([ring, ...list]);
    await adapter.send([ring, ...list]);
    const sends = fake.requests('send');
    expect(sends.map((entry) => entry.body?.requestId)).toEqual([ring.deliveryId, ring.deliveryId]);
    expect(sends.map((entry) => entry.duplicate)).toEqual([false, true]);
    const lists = fake.requests('pushToList');
    expect(lists[0]?.body?.requestId).toBe(lists[1]?.body?.requestId);
    expect(lists.map((entry) => entry.duplicate)).toEqual([false, true]);
    expect(fake.delivered).toBe(4);
  });

  it('after close, sends fail with retry and nothing reaches vivo', async () => {
    const adapter = adapterFor(fake);
    await adapter.send([message()]);
    await adapter.close();
    const before = fake.counts.send;
    expect(await adapter.send([message()])).toEqual([
      { ok: false, failure: 'retry', reason: 'adapter_closed' },
    ]);
    expect(fake.counts.send).toBe(before);
  });

  it('refuses invalid settings when created', () => {
    const context = { clock, accessTokens: createMemoryAccessTokenStore() };
    expect(() => vivoProvider.createAdapter({ ...fake.credentials(), app_id: 'x' }, context)).toThrow(
      /app_id/,
    );
  });
});
