import { beforeEach, describe, expect, it } from 'vitest';
import { honorMessage } from '../../../../test/fakes/honor-fixtures.js';
import {
  type FakeHonor,
  type FakeHonorOptions,
  startFakeHonor,
} from '../../../../test/fakes/honor-server.js';
import { ManualClock } from '../../../../test/helpers/clock.js';
import { closedAfterEach } from '../../../../test/helpers/closing.js';
import type { PushAdapter, PushMessage } from '../adapter.js';
import { createMemoryAccessTokenStore } from '../shared/access-tokens.js';
import { createHonorAdapter, type HonorAdapterOptions } from './honor.adapter.js';
import { honorAccessTokenKey } from './honor.auth.js';
import { type HonorSettingsInput, validateHonorSettings } from './honor.config.js';
import { honorProvider } from './index.js';

const T0 = Date.UTC(2026, 10, 30, 12, 0, 0); // 20:00 in China

function validSettings(input: HonorSettingsInput) {
  const check = validateHonorSettings(input);
  if (!check.ok) throw new Error(check.error);
  return check.settings;
}

describe('the Honor adapter, against the fake', () => {
  let clock: ManualClock;
  let fake: FakeHonor;
  const closing = closedAfterEach();

  async function newFake(options: FakeHonorOptions = {}): Promise<FakeHonor> {
    return closing.fake(await startFakeHonor({ clock, ...options }));
  }
  function adapterFor(
    target: FakeHonor,
    options: Partial<HonorAdapterOptions> = {},
    settings: HonorSettingsInput = target.settings(),
  ): PushAdapter {
    return closing.adapter(createHonorAdapter(validSettings(settings), { clock, ...options }));
  }
  const message = (overrides: Partial<PushMessage> = {}) => honorMessage(clock.now(), overrides);
  const many = (count: number, prefix = 't') =>
    Array.from({ length: count }, (_, i) => message({ token: `${prefix}-${i}` }));

  beforeEach(async () => {
    clock = new ManualClock(T0);
    fake = await newFake();
  });
  it('sends a ring on its own, with the access token and the timestamp in ms', async () => {
    const adapter = adapterFor(
      fake,
      {},
      { ...fake.settings(), ring_channel_id: 'calls', ring_category: 'VOIP' },
    );
    const results = await adapter.send([
      message({ channel: 'ring', token: 'phone-a', collapseId: 'ring-1', expiresAt: T0 + 30_000 }),
      message({ channel: 'ring', token: 'phone-b', collapseId: 'ring-1', expiresAt: T0 + 30_000 }),
    ]);
    expect(results).toEqual([
      { ok: true, providerMessageId: expect.any(String) },
      { ok: true, providerMessageId: expect.any(String) },
    ]);
    expect(fake.received.map((received) => received.tokens)).toEqual([['phone-a'], ['phone-b']]);
    const [first] = fake.received;
    expect(first?.status).toBe(200);
    expect(first?.headers.authorization).toBe(`Bearer ${fake.tokenRequests[0]?.accessToken}`);
    expect(first?.headers.timestamp).toBe(String(T0));
    expect(first?.body?.android).toMatchObject({
      ttl: '30s',
      category: 'VOIP',
      notification: { importance: 'NORMAL', channelId: 'calls', tag: 'ring-1' },
    });
  });

  it('sends a message to 2,500 phones in 3 requests, results in order', async () => {
    const adapter = adapterFor(fake);
    const messages = many(2500);
    fake.script('t-7', 'expire');
    fake.script('t-1500', 'expire');
    fake.script('t-2400', 'fail');
    const results = await adapter.send(messages);
    expect(fake.received.map((received) => received.tokens.length)).toEqual([1000, 1000, 500]);
    expect(fake.tokenCount).toBe(2500);
    expect(results).toHaveLength(2500);
    const outcome = (i: number) => {
      const result = results[i];
      return result?.ok ? 'ok' : `${result?.failure}:${result?.reason}`;
    };
    expect([outcome(0), outcome(7), outcome(1500), outcome(2400), outcome(2499)]).toEqual([
      'ok',
      'dead:expire_token',
      'dead:expire_token',
      'retry:fail_token',
      'ok',
    ]);
    expect(results.filter((result) => result.ok)).toHaveLength(2497);
    expect(fake.tokensIssued).toBe(1);
  });

  it('batches only messages with the same content', async () => {
    const adapter = adapterFor(fake);
    const results = await adapter.send([
      message({ token: 'en-1' }),
      message({ token: 'de-1', title: 'Haustür' }),
      message({ token: 'en-2' }),
      message({ token: 'de-2', title: 'Haustür' }),
    ]);
    expect(results.every((result) => result.ok)).toBe(true);
    expect(fake.received.map((received) => received.tokens).sort()).toEqual([
      ['de-1', 'de-2'],
      ['en-1', 'en-2'],
    ]);
  });

  it('uses one access token until 5 minutes before it expires', async () => {
    const adapter = adapterFor(fake);
    await adapter.send([message()]);
    clock.advance(54 * 60_000 + 59_999);
    await adapter.send([message()]);
    expect(fake.tokensIssued).toBe(1);
    clock.advance(1);
    expect((await adapter.send([message()]))[0]?.ok).toBe(true);
    expect(fake.tokensIssued).toBe(2);
    expect(fake.received[2]?.headers.authorization).toBe(`Bearer ${fake.tokenRequests[1]?.accessToken}`);
    expect(fake.tokenRequests[0]).toMatchObject({ family: 'hihonor', clientId: fake.clientId, status: 200 });
  });

  it('on "Oauth Token expired" fetches one new token for all requests that saw it, and sends again', async () => {
    const adapter = adapterFor(fake, { maxTokensPerRequest: 10 });
    await adapter.send([message()]);
    fake.expireAccessTokens();
    const results = await adapter.send(many(50));
    expect(results.every((result) => result.ok)).toBe(true);
    expect(fake.tokensIssued).toBe(2);
    const codes = fake.received.slice(1).map((received) => received.code);
    expect(codes.filter((code) => code === 80200003)).toHaveLength(5);
    expect(codes.filter((code) => code === 200)).toHaveLength(5);
  });

  it('on 80200001 (token unknown) tries a new token once, then reports creds', async () => {
    const adapter = adapterFor(fake);
    await adapter.send([message()]);
    fake.revokeAccessTokens();
    expect((await adapter.send([message()]))[0]?.ok).toBe(true);
    fake.script('phone', 'OAUTH_ERROR');
    expect(await adapter.send([message({ token: 'phone' })])).toEqual([
      { ok: false, failure: 'creds', reason: '80200001' },
    ]);
    expect(fake.tokensIssued).toBe(3);
  });

  it('reports creds for every message when the client secret is wrong, without sending', async () => {
    const adapter = adapterFor(fake, {}, { ...fake.settings(), client_secret: 'not-the-secret' });
    expect(await adapter.send([message(), message({ channel: 'ring' })])).toEqual([
      { ok: false, failure: 'creds', reason: 'oauth_unauthorized_client' },
      { ok: false, failure: 'creds', reason: 'oauth_unauthorized_client' },
    ]);
    expect(fake.received).toHaveLength(0);
    expect(fake.tokenRequests[0]?.status).toBe(401);
  });

  it('retries when the token endpoint is down, honouring its Retry-After', async () => {
    const adapter = adapterFor(fake);
    fake.scriptTokenEndpoint([{ status: 503, body: 'busy', headers: { 'retry-after': '20' } }]);
    expect(await adapter.send([message()])).toEqual([
      { ok: false, failure: 'retry', reason: 'oauth_http_503', retryAfterMs: 20_000 },
    ]);
    expect((await adapter.send([message()]))[0]?.ok).toBe(true);
  });

  it('reads the token from the other host family’s endpoint too', async () => {
    const adapter = adapterFor(fake, {}, fake.settings('honor'));
    expect((await adapter.send([message()]))[0]?.ok).toBe(true);
    expect(fake.tokenRequests[0]?.family).toBe('honor');
  });

  it('classifies whole-request errors for every message of the request', async () => {
    const adapter = adapterFor(fake);
    fake.scriptNext(['ALL_TOKENS_INVALID', 'APP_FORBIDDEN', 'INTERNAL', 'FLOW_CONTROL', 'NO_RIGHT']);
    const outcomes = [];
    for (let i = 0; i < 5; i += 1)
      outcomes.push(await adapter.send([message({ token: 'a' }), message({ token: 'b' })]));
    expect(outcomes).toEqual([
      [
        { ok: false, failure: 'dead', reason: '80300007' },
        { ok: false, failure: 'dead', reason: '80300007' },
      ],
      [
        { ok: false, failure: 'creds', reason: '80300002' },
        { ok: false, failure: 'creds', reason: '80300002' },
      ],
      [
        { ok: false, failure: 'retry', reason: '81000001' },
        { ok: false, failure: 'retry', reason: '81000001' },
      ],
      [
        { ok: false, failure: 'retry', reason: 'HTTP_503', retryAfterMs: 30_000 },
        { ok: false, failure: 'retry', reason: 'HTTP_503', retryAfterMs: 30_000 },
      ],
      [
        { ok: false, failure: 'creds', reason: '80300011' },
        { ok: false, failure: 'creds', reason: '80300011' },
      ],
    ]);
  });

  it('retries a daily quota after midnight in China', async () => {
    const adapter = adapterFor(fake);
    fake.script('phone', ['QUOTA_EXCEEDED']);
    expect(await adapter.send([message({ token: 'phone' })])).toEqual([
      { ok: false, failure: 'retry', reason: '80300009', retryAfterMs: 4 * 3600_000 },
    ]);
  });

  it('reports a category Honor did not grant as creds (the fake checks the body like Honor)', async () => {
    const strict = await newFake({ categories: [] });
    const adapter = adapterFor(strict, {}, { ...strict.settings(), ring_category: 'VOIP' });
    expect(await adapter.send([message({ channel: 'ring' })])).toEqual([
      { ok: false, failure: 'creds', reason: '80300011' },
    ]);
  });

  it('turns network faults and timeouts into retry', async () => {
    const adapter = adapterFor(fake, { requestTimeoutMs: 200 });
    await adapter.send([message()]);
    // A reset on a kept-alive connection is tried once more on a new one (shared HttpClient).
    fake.scriptNext(['reset', 'reset', 'hang']);
    expect(await adapter.send([message()])).toEqual([
      { ok: false, failure: 'retry', reason: 'network_error' },
    ]);
    expect(await adapter.send([message()])).toEqual([{ ok: false, failure: 'retry', reason: 'timeout' }]);
    fake.setOutage({ status: 502, body: '<html>Bad Gateway</html>' });
    expect(await adapter.send([message()])).toEqual([{ ok: false, failure: 'retry', reason: 'HTTP_502' }]);
    fake.setOutage(undefined);
    expect((await adapter.send([message()]))[0]?.ok).toBe(true);
  });

  it('fails with tls_error when the CA is not trusted', async () => {
    const { ca: _ca, ...untrusted } = fake.settings();
    const adapter = adapterFor(fake, {}, untrusted);
    expect(await adapter.send([message()])).toEqual([
      { ok: false, failure: 'retry', reason: 'oauth_tls_error' },
    ]);
  });

  it('shares access tokens through the store, one per client', async () => {
    const store = createMemoryAccessTokenStore();
    await adapterFor(fake, { accessTokens: store }).send([message()]);
    await adapterFor(fake, { accessTokens: store }).send([message()]);
    expect(fake.tokensIssued).toBe(1);
  });

  it('never lends a token to settings with another secret', async () => {
    const store = createMemoryAccessTokenStore();
    await adapterFor(fake, { accessTokens: store }).send([message()]);
    const wrong = adapterFor(fake, { accessTokens: store }, { ...fake.settings(), client_secret: 'typo' });
    expect((await wrong.send([message()]))[0]).toMatchObject({ failure: 'creds' });
    const keys = [
      honorAccessTokenKey(validSettings(fake.settings())),
      honorAccessTokenKey(validSettings({ ...fake.settings(), client_secret: 'typo' })),
    ];
    expect(keys[0]).not.toBe(keys[1]);
    expect(keys.join(' ')).not.toContain(fake.clientSecret);
  });

  it('after close, sends fail with retry and nothing reaches Honor', async () => {
    const adapter = adapterFor(fake);
    await adapter.send([message()]);
    fake.scriptNext(['hang']);
    const inFlight = adapter.send([message({ token: 'slow' })]);
    await new Promise<void>((resolve) => fake.once('request', () => resolve()));
    await adapter.close();
    expect(await inFlight).toEqual([{ ok: false, failure: 'retry', reason: 'adapter_closed' }]);
    expect(await adapter.send([message()])).toEqual([
      { ok: false, failure: 'retry', reason: 'adapter_closed' },
    ]);
    expect(fake.requestCount).toBe(2);
  });

  it('refuses invalid settings when created', () => {
    const context = { clock, accessTokens: createMemoryAccessTokenStore() };
    expect(() => honorProvider.createAdapter({ ...fake.settings(), auth_url: 'http://x' }, context)).toThrow(
      /auth_url/,
    );
  });
});
