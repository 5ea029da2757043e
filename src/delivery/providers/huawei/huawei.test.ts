import { createHash } from 'node:crypto';
import { beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { EXPECTED_HUAWEI_FAILURES, huaweiMessage } from '../../../../test/fakes/huawei-fixtures.js';
import {
  FAKE_HUAWEI_ERRORS,
  type FakeHuawei,
  type FakeHuaweiErrorName,
  type FakeHuaweiOptions,
  startFakeHuawei,
} from '../../../../test/fakes/huawei-server.js';
import { ManualClock } from '../../../../test/helpers/clock.js';
import type { PushAdapter, PushMessage } from '../adapter.js';
import { settingsOrThrow } from '../catalogue.js';
import { type CachedAccessToken, createMemoryAccessTokenStore } from '../shared/access-tokens.js';
import { createHuaweiAdapter, type HuaweiAdapterOptions } from './huawei.adapter.js';
import { validateHuaweiSettings } from './huawei.config.js';
import { huaweiProvider } from './index.js';

const T0 = Date.UTC(2026, 10, 30, 12, 0, 0);

interface SentBody {
  message: { token: string[]; data?: string; android: Record<string, unknown> };
}

describe('the Huawei adapter, against the fake Push Kit', () => {
  let clock: ManualClock;
  let fake: FakeHuawei;

  /** A fake Push Kit on the test clock, closed when the test ends. */
  async function newFake(options: FakeHuaweiOptions = {}): Promise<FakeHuawei> {
    const started = await startFakeHuawei({ clock, ...options });
    onTestFinished(() => started.close());
    return started;
  }

  /** An adapter for `target` (its settings unless others are given), closed when the test ends. */
  function adapterFor(
    target: FakeHuawei,
    options: Partial<HuaweiAdapterOptions> = {},
    settings: Record<string, unknown> = target.settings(),
  ): PushAdapter {
    const adapter = createHuaweiAdapter(settingsOrThrow('huawei', validateHuaweiSettings(settings)), {
      clock,
      ...options,
    });
    onTestFinished(() => adapter.close());
    return adapter;
  }

  const message = (overrides: Partial<PushMessage> = {}) => huaweiMessage(clock.now(), overrides);
  const tokens = (count: number, prefix = 'phone') =>
    Array.from({ length: count }, (_, i) => message({ token: `${prefix}-${i}` }));
  const sent = (index: number) => fake.received[index]?.body as SentBody | undefined;

  beforeEach(async () => {
    clock = new ManualClock(T0);
    fake = await newFake();
  });

  it('sends a ring alone, as a HIGH-urgency VOIP data message, with the access token', async () => {
    const adapter = adapterFor(fake);
    const results = await adapter.send([
      message({ channel: 'ring', token: 'phone-a', expiresAt: clock.now() + 20_000 }),
    ]);
    expect(results).toEqual([{ ok: true, providerMessageId: expect.stringMatching(/^\d+$/) }]);
    const [received] = fake.received;
    expect(received?.code).toBe('80000000');
    expect(received?.appId).toBe(fake.appId);
    expect(received?.headers.authorization).toBe(`Bearer ${fake.tokenRequests[0]?.accessToken}`);
    expect(received?.headers['content-type']).toBe('application/json;charset=utf-8');
    expect(sent(0)?.message.android).toEqual({ ttl: '20s', urgency: 'HIGH', category: 'VOIP' });
    expect(sent(0)?.message.token).toEqual(['phone-a']);
    expect(JSON.parse(sent(0)?.message.data ?? '')).toMatchObject({ channel: 'ring', device: 'cam-1' });
  });

  it('sends a message to 2,500 phones in 3 requests, results in order', async () => {
    const adapter = adapterFor(fake);
    const messages = tokens(2500);
    const results = await adapter.send(messages);
    expect(results).toHaveLength(2500);
    expect(results.every((result) => result.ok)).toBe(true);
    expect(fake.sendRequests).toBe(3);
    expect(fake.received.map((received) => received.tokens.length).sort()).toEqual([1000, 1000, 500]);
    expect(fake.received.flatMap((received) => received.tokens).sort()).toEqual(
      messages.map((m) => m.token).sort(),
    );
    expect(fake.tokensIssued).toBe(1);
  });

  it('keeps texts apart (one request per language) and sends each ring on its own, first', async () => {
    const adapter = adapterFor(fake);
    const results = await adapter.send([
      message({ token: 'en-1' }),
      message({ token: 'de-1', title: 'Haustür' }),
      message({ token: 'en-2' }),
      message({ token: 'ring-1', channel: 'ring' }),
      message({ token: 'ring-2', channel: 'ring' }),
      message({ token: 'de-2', title: 'Haustür' }),
    ]);
    expect(results.every((result) => result.ok)).toBe(true);
    const requests = fake.received.map((received) => received.tokens.join(','));
    expect(requests.slice(0, 2).sort()).toEqual(['ring-1', 'ring-2']);
    expect(requests.slice(2).sort()).toEqual(['de-1,de-2', 'en-1,en-2']);
  });

  it('marks exactly the tokens an 80100000 partial success lists as dead', async () => {
    const adapter = adapterFor(fake);
    fake.script('phone-3', 'invalid');
    fake.script('phone-7', 'invalid');
    const results = await adapter.send(tokens(10));
    expect(fake.received[0]?.code).toBe('80100000');
    expect(fake.received[0]?.illegalTokens).toEqual(['phone-3', 'phone-7']);
    expect(
      results.map((result, i) => (result.ok ? 'ok' : `${i}:${result.failure}:${result.reason}`)),
    ).toEqual([
      'ok',
      'ok',
      'ok',
      '3:dead:illegal_token',
      'ok',
      'ok',
      'ok',
      '7:dead:illegal_token',
      'ok',
      'ok',
    ]);
    expect(results[0]).toEqual({ ok: true, providerMessageId: expect.stringMatching(/^\d+$/) });
  });

  it('marks every token dead on 80300007 (all tokens invalid)', async () => {
    const adapter = adapterFor(fake);
    fake.script('phone-0', 'invalid');
    fake.script('phone-1', 'invalid');
    expect(await adapter.send(tokens(2))).toEqual([
      { ok: false, failure: 'dead', reason: '80300007' },
      { ok: false, failure: 'dead', reason: '80300007' },
    ]);
  });

  it('asks for an access token with the client credentials, once, and replaces it 5 minutes before it expires', async () => {
    const adapter = adapterFor(fake);
    for (let round = 0; round < 3; round += 1) {
      expect((await adapter.send([message()]))[0]?.ok).toBe(true);
      clock.advance(18 * 60_000);
    }
    expect(fake.tokensIssued).toBe(1);
    expect(fake.tokenRequests[0]).toMatchObject({ clientId: fake.appId, status: 200 });
    clock.advance(54 * 60_000 + 59_999 - 3 * 18 * 60_000);
    await adapter.send([message()]);
    expect(fake.tokensIssued).toBe(1);
    clock.advance(1);
    expect((await adapter.send([message()]))[0]?.ok).toBe(true);
    expect(fake.tokensIssued).toBe(2);
    expect(fake.received.at(-1)?.headers.authorization).toBe(`Bearer ${fake.tokenRequests[1]?.accessToken}`);
  });

  it('on 80200003 (token expired early) fetches one new token for all requests and sends them again', async () => {
    const adapter = adapterFor(fake, { maxTokensPerRequest: 10 });
    await adapter.send([message()]);
    fake.expireAccessTokens();
    const results = await adapter.send(tokens(50));
    expect(results.every((result) => result.ok)).toBe(true);
    expect(fake.tokensIssued).toBe(2);
    const codes = fake.received.slice(1).map((received) => received.code);
    expect(codes.filter((code) => code === '80200003')).toHaveLength(5);
    expect(codes.filter((code) => code === '80000000')).toHaveLength(5);
  });

  it('gets 80200003 from the fake once a token’s hour is over, and recovers with a new token', async () => {
    // A shared store whose entry outlives the token (another process's clock ran slow).
    const entries = new Map<string, CachedAccessToken>();
    const store = {
      get: async (key: string) => entries.get(key),
      set: async (key: string, value: CachedAccessToken) => {
        entries.set(key, { ...value, expiresAt: value.expiresAt + 3_600_000 });
      },
    };
    const adapter = adapterFor(fake, { accessTokens: store });
    await adapter.send([message()]);
    clock.advance(3_600_000);
    expect((await adapter.send([message()]))[0]?.ok).toBe(true);
    expect(fake.received.map((received) => received.code)).toEqual(['80000000', '80200003', '80000000']);
    expect(fake.tokensIssued).toBe(2);
  });

  it('on 80200001 fetches a new token once; refused again, the app’s credentials are at fault', async () => {
    const adapter = adapterFor(fake);
    await adapter.send([message()]);
    fake.revokeAccessTokens();
    expect((await adapter.send([message()]))[0]?.ok).toBe(true);
    expect(fake.tokensIssued).toBe(2);

    fake.scriptNext(['80200001', '80200001']);
    expect(await adapter.send([message()])).toEqual([{ ok: false, failure: 'creds', reason: '80200001' }]);
    expect(fake.tokensIssued).toBe(3);
    fake.scriptNext(['80200003', '80200003']);
    expect(await adapter.send([message()])).toEqual([{ ok: false, failure: 'retry', reason: '80200003' }]);
  });

  it('answers creds for every message when the secret is wrong, asking the OAuth server once', async () => {
    const adapter = adapterFor(fake, {}, { ...fake.settings(), client_secret: 'wrong-secret' });
    expect(await adapter.send([message({ token: 'a' }), message({ token: 'b', title: 'x' })])).toEqual([
      { ok: false, failure: 'creds', reason: 'oauth_1101' },
      { ok: false, failure: 'creds', reason: 'oauth_1101' },
    ]);
    expect(fake.tokenRequests).toHaveLength(1);
    expect(fake.tokenRequests[0]?.status).toBe(400);
    expect(fake.sendRequests).toBe(0);
  });

  it('sends with a project-level OAuth client whose id is not the app id', async () => {
    const other = await newFake({ clientId: '108888888' });
    const results = await adapterFor(other).send([message()]);
    expect(results[0]?.ok).toBe(true);
    expect(other.tokenRequests[0]?.clientId).toBe('108888888');
    expect(other.received[0]?.appId).toBe(other.appId);
  });

  it('retries when the OAuth server fails or cannot be reached', async () => {
    const adapter = adapterFor(fake);
    fake.scriptTokenEndpoint([{ status: 503, body: 'busy', headers: { 'retry-after': '3' } }]);
    expect(await adapter.send([message()])).toEqual([
      { ok: false, failure: 'retry', reason: 'oauth_http_503', retryAfterMs: 3000 },
    ]);
    expect((await adapter.send([message()]))[0]?.ok).toBe(true);

    const gone = await newFake();
    const unreachable = adapterFor(gone);
    await gone.close();
    expect(await unreachable.send([message()])).toEqual([
      { ok: false, failure: 'retry', reason: 'oauth_network_error' },
    ]);
  });

  it('classifies every Push Kit error answer for all the messages of the request', async () => {
    const adapter = adapterFor(fake);
    for (const name of Object.keys(FAKE_HUAWEI_ERRORS) as FakeHuaweiErrorName[]) {
      // A token refusal is answered twice: before and after the new token.
      fake.scriptNext(name === '80200001' || name === '80200003' ? [name, name] : [name]);
      const results = await adapter.send([message({ token: 'a' }), message({ token: 'b' })]);
      const [failure, reason] = EXPECTED_HUAWEI_FAILURES[name];
      const result = {
        ok: false,
        failure,
        reason,
        ...(name === 'FLOW_CONTROL' ? { retryAfterMs: 60_000 } : {}),
      };
      expect(results, name).toEqual([result, result]);
    }
  });

  it('retries through flow control and a proxy’s HTML error page, honouring Retry-After', async () => {
    const adapter = adapterFor(fake);
    fake.setOutage({ error: 'FLOW_CONTROL', retryAfter: 120 });
    expect(await adapter.send([message()])).toEqual([
      { ok: false, failure: 'retry', reason: 'flow_control', retryAfterMs: 120_000 },
    ]);
    fake.setOutage({ status: 502, body: '<html>Bad Gateway</html>', headers: { 'retry-after': '5' } });
    expect(await adapter.send([message()])).toEqual([
      { ok: false, failure: 'retry', reason: 'HTTP_502', retryAfterMs: 5000 },
    ]);
    fake.setOutage(undefined);
    expect((await adapter.send([message()]))[0]?.ok).toBe(true);
  });

  it('reports a ring without the high-priority permission as creds (80300011)', async () => {
    const strict = await newFake({ highPriorityAllowed: false });
    const adapter = adapterFor(strict);
    expect(await adapter.send([message({ channel: 'ring' })])).toEqual([
      { ok: false, failure: 'creds', reason: '80300011' },
    ]);
    expect((await adapter.send([message()]))[0]?.ok).toBe(true);
  });

  it('returns retry, not an exception, on network faults and timeouts', async () => {
    const store = createMemoryAccessTokenStore();
    const adapter = adapterFor(fake, { accessTokens: store });
    expect((await adapter.send([message()]))[0]?.ok).toBe(true);
    fake.script('dropped', 'reset');
    expect(await adapter.send([message({ token: 'dropped' })])).toEqual([
      { ok: false, failure: 'retry', reason: 'network_error' },
    ]);
    fake.script('slow', 'hang');
    const impatient = adapterFor(fake, { accessTokens: store, requestTimeoutMs: 200 });
    expect(await impatient.send([message({ token: 'slow' })])).toEqual([
      { ok: false, failure: 'retry', reason: 'timeout' },
    ]);
    await fake.close();
    expect(await adapter.send([message(), message({ title: 'other' })])).toEqual([
      { ok: false, failure: 'retry', reason: 'network_error' },
      { ok: false, failure: 'retry', reason: 'network_error' },
    ]);
  });

  it('refuses the fake’s certificate without the CA (retry, tls_error)', async () => {
    const { ca: _ca, ...withoutCa } = fake.settings();
    expect(await adapterFor(fake, {}, withoutCa).send([message()])).toEqual([
      { ok: false, failure: 'retry', reason: 'oauth_tls_error' },
    ]);
  });

  it('shares access tokens through the store, keyed by client id, secret digest and token endpoint', async () => {
    const entries = new Map<string, CachedAccessToken>();
    const store = {
      get: async (key: string) => entries.get(key),
      set: async (key: string, value: CachedAccessToken) => {
        entries.set(key, value);
      },
    };
    await adapterFor(fake, { accessTokens: store }).send([message()]);
    await adapterFor(fake, { accessTokens: store }).send([message()]);
    const digest = createHash('sha256').update(fake.clientSecret).digest('hex').slice(0, 16);
    expect(fake.tokensIssued).toBe(1);
    expect([...entries.keys()]).toEqual([`huawei ${fake.appId} ${digest} ${fake.authUrl}`]);
    // Another secret for the same client does not borrow the token.
    const wrong = adapterFor(
      fake,
      { accessTokens: store },
      { ...fake.settings(), client_secret: 'mistyped' },
    );
    expect(await wrong.send([message()])).toEqual([{ ok: false, failure: 'creds', reason: 'oauth_1101' }]);
    expect([...entries.values()][0]?.expiresAt).toBe(T0 + 3_600_000);
  });

  it('after close, sends fail with retry and nothing reaches Push Kit', async () => {
    const adapter = adapterFor(fake);
    await adapter.close();
    expect(await adapter.send([message()])).toEqual([
      { ok: false, failure: 'retry', reason: 'adapter_closed' },
    ]);
    expect(fake.sendRequests).toBe(0);
  });

  it('refuses invalid settings and options when created', () => {
    const context = { clock, accessTokens: createMemoryAccessTokenStore() };
    expect(() => huaweiProvider.createAdapter({ app_id: 'x', client_secret: 's' }, context)).toThrow(
      /app_id/,
    );
    expect(() => adapterFor(fake, { maxTokensPerRequest: 1001 })).toThrow(/maxTokensPerRequest/);
  });
});
