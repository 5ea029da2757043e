import { generateKeyPairSync } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  FAKE_FCM_CA,
  FAKE_FCM_ERRORS,
  type FakeFcm,
  type FakeFcmErrorName,
  fakeServiceAccount,
  startFakeFcm,
} from '../../../../test/fakes/fcm-server.js';
import { pushMessage as testPushMessage } from '../../../../test/fakes/push-message.js';
import { ManualClock } from '../../../../test/helpers/clock.js';
import { closedAfterEach } from '../../../../test/helpers/closing.js';
import type { PushAdapter, PushMessage } from '../adapter.js';
import { settingsOrThrow } from '../catalogue.js';
import { parseRetryAfter } from '../retry-after.js';
import {
  type AccessTokenStore,
  type CachedAccessToken,
  createMemoryAccessTokenStore,
} from '../shared/access-tokens.js';
import { createFcmAdapter, type FcmAdapterOptions } from './fcm.adapter.js';
import { FCM_SCOPE } from './fcm.auth.js';
import { type FcmSettingsInput, validateFcmSettings } from './fcm.config.js';
import { classifyFcmError } from './fcm.errors.js';
import { buildFcmRequest } from './fcm.request.js';
import { fcmProvider } from './index.js';

const T0 = Date.UTC(2026, 10, 30, 12, 0, 0);
const settings = { projectId: 'bellhop-test', baseUrl: 'https://fcm.googleapis.com' };

function pushMessage(now: number, overrides: Partial<PushMessage> = {}): PushMessage {
  return testPushMessage(now, { expiresAt: now + 30_000, ...overrides });
}

function bodyOf(request: { body: string }): { message: Record<string, unknown> } {
  return JSON.parse(request.body) as { message: Record<string, unknown> };
}

describe('buildFcmRequest', () => {
  it('sends a ring as a data-only, high-priority message living until expiresAt', () => {
    const request = buildFcmRequest(
      pushMessage(T0, { channel: 'ring', collapseId: 'call-42', expiresAt: T0 + 30_999 }),
      settings,
      T0,
    );
    expect(request.method).toBe('POST');
    expect(request.url).toBe('https://fcm.googleapis.com/v1/projects/bellhop-test/messages:send');
    expect(request.headers).toEqual({ 'content-type': 'application/json; charset=utf-8' });
    expect(JSON.parse(request.body)).toEqual({
      message: {
        token: 'token-1',
        data: { device: 'cam-1', title: 'Front door', body: 'Someone is at the door', channel: 'ring' },
        android: { priority: 'HIGH', ttl: '30s', collapse_key: 'call-42' },
      },
    });
  });

  it('sends a message as a notification with data, channel, sound, tag and badge', () => {
    const request = buildFcmRequest(
      pushMessage(T0, {
        androidChannelId: 'alerts',
        sound: 'chime',
        badge: 3,
        collapseId: 'door',
        expiresAt: T0 + 86_400_000,
      }),
      settings,
      T0,
    );
    expect(JSON.parse(request.body)).toEqual({
      message: {
        token: 'token-1',
        notification: { title: 'Front door', body: 'Someone is at the door' },
        data: { device: 'cam-1' },
        android: {
          priority: 'HIGH',
          ttl: '86400s',
          collapse_key: 'door',
          notification: { channel_id: 'alerts', sound: 'chime', tag: 'door', notification_count: 3 },
        },
      },
    });
  });

  it('leaves out what is not set, and never lets the ring channel key be overridden', () => {
    const plain = bodyOf(
      buildFcmRequest(pushMessage(T0, { title: undefined, body: undefined, data: {} }), settings, T0),
    );
    expect(plain.message).toEqual({ token: 'token-1', android: { priority: 'HIGH', ttl: '30s' } });

    const ring = bodyOf(
      buildFcmRequest(
        pushMessage(T0, {
          channel: 'ring',
          title: undefined,
          data: { channel: 'x', n: 5 as unknown as string },
        }),
        settings,
        T0,
      ),
    );
    expect(ring.message.data).toEqual({ channel: 'ring', n: '5', body: 'Someone is at the door' });
    expect(ring.message).not.toHaveProperty('notification');
  });

  it('rounds the TTL down, never below 0s nor above four weeks', () => {
    const ttl = (expiresAt: number) =>
      (
        bodyOf(buildFcmRequest(pushMessage(T0, { expiresAt }), settings, T0)).message.android as {
          ttl: string;
        }
      ).ttl;
    expect(ttl(T0 + 1_999)).toBe('1s');
    expect(ttl(T0 + 999)).toBe('0s');
    expect(ttl(T0 - 60_000)).toBe('0s');
    expect(ttl(T0 + 365 * 86_400_000)).toBe('2419200s');
  });

  it('keeps a path prefix of the base URL and ignores a trailing slash', () => {
    const request = buildFcmRequest(
      pushMessage(T0),
      { projectId: 'p-1', baseUrl: 'https://proxy.example/fcm/' },
      T0,
    );
    expect(request.url).toBe('https://proxy.example/fcm/v1/projects/p-1/messages:send');
  });
});

describe('classifyFcmError', () => {
  const expected: Record<FakeFcmErrorName, string> = {
    UNREGISTERED: 'dead',
    INVALID_TOKEN: 'dead',
    INVALID_ARGUMENT: 'bad_request',
    SENDER_ID_MISMATCH: 'dead',
    QUOTA_EXCEEDED: 'retry',
    UNAVAILABLE: 'retry',
    INTERNAL: 'retry',
    THIRD_PARTY_AUTH_ERROR: 'creds',
    UNAUTHENTICATED: 'creds',
    PERMISSION_DENIED: 'creds',
  };
  const reasons: Record<FakeFcmErrorName, string> = {
    UNREGISTERED: 'UNREGISTERED',
    INVALID_TOKEN: 'INVALID_ARGUMENT',
    INVALID_ARGUMENT: 'INVALID_ARGUMENT',
    SENDER_ID_MISMATCH: 'SENDER_ID_MISMATCH',
    QUOTA_EXCEEDED: 'QUOTA_EXCEEDED',
    UNAVAILABLE: 'UNAVAILABLE',
    INTERNAL: 'INTERNAL',
    THIRD_PARTY_AUTH_ERROR: 'THIRD_PARTY_AUTH_ERROR',
    UNAUTHENTICATED: 'UNAUTHENTICATED',
    PERMISSION_DENIED: 'PERMISSION_DENIED',
  };

  for (const [name, answer] of Object.entries(FAKE_FCM_ERRORS)) {
    it(`classifies FCM's real ${name} answer`, () => {
      const result = classifyFcmError({ status: answer.status, body: answer.body }, T0);
      expect(result.failure).toBe(expected[name as FakeFcmErrorName]);
      expect(result.reason).toBe(reasons[name as FakeFcmErrorName]);
    });
  }

  it('reads the FCM errorCode before the status', () => {
    const unregistered400 =
      '{"error":{"code":400,"message":"Requested entity was not found.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNREGISTERED"}]}}';
    expect(classifyFcmError({ status: 400, body: unregistered400 }, T0)).toEqual({
      ok: false,
      failure: 'dead',
      reason: 'UNREGISTERED',
    });
  });

  it('falls back to the status, then the HTTP status; never declares a token dead without an FCM code', () => {
    expect(
      classifyFcmError({ status: 404, body: '{"error":{"code":404,"status":"NOT_FOUND"}}' }, T0),
    ).toEqual({
      ok: false,
      failure: 'bad_request',
      reason: 'NOT_FOUND',
    });
    expect(classifyFcmError({ status: 502, body: '<html>Bad Gateway</html>', retryAfter: '7' }, T0)).toEqual({
      ok: false,
      failure: 'retry',
      reason: 'HTTP_502',
      retryAfterMs: 7000,
    });
    expect(classifyFcmError({ status: 413, body: '' }, T0)).toMatchObject({ failure: 'bad_request' });
    expect(classifyFcmError({ status: 429, body: '' }, T0)).toMatchObject({
      failure: 'retry',
      reason: 'HTTP_429',
    });
    expect(classifyFcmError({ status: 403, body: 'Forbidden' }, T0)).toMatchObject({ failure: 'creds' });
    const unspecified =
      '{"error":{"code":503,"status":"UNAVAILABLE","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNSPECIFIED_ERROR"}]}}';
    expect(classifyFcmError({ status: 503, body: unspecified }, T0)).toMatchObject({
      failure: 'retry',
      reason: 'UNAVAILABLE',
    });
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(parseRetryAfter('120', T0)).toBe(120_000);
    expect(parseRetryAfter(new Date(T0 + 45_000).toUTCString(), T0)).toBe(45_000);
    expect(parseRetryAfter(new Date(T0 - 45_000).toUTCString(), T0)).toBe(0);
    expect(parseRetryAfter('soon', T0)).toBeUndefined();
    expect(parseRetryAfter(undefined, T0)).toBeUndefined();
  });
});

describe('validateFcmSettings', () => {
  const account = fakeServiceAccount('https://oauth2.googleapis.com/token');

  it('accepts a service-account key file and fills in the defaults', () => {
    const { token_uri: _omitted, ...withoutTokenUri } = account;
    const check = validateFcmSettings({ service_account: withoutTokenUri });
    expect(check.ok).toBe(true);
    if (!check.ok) return;
    expect(check.settings).toMatchObject({
      projectId: 'bellhop-test',
      clientEmail: account.client_email,
      privateKeyId: account.private_key_id,
      tokenUri: 'https://oauth2.googleapis.com/token',
      baseUrl: 'https://fcm.googleapis.com',
      ca: undefined,
    });
    expect(check.settings.privateKey.asymmetricKeyType).toBe('rsa');
  });

  it('accepts a url override and a CA', () => {
    const check = validateFcmSettings({
      service_account: account,
      url: 'https://proxy.example/fcm/',
      ca: FAKE_FCM_CA,
    });
    expect(check.ok && check.settings.baseUrl).toBe('https://proxy.example/fcm');
  });

  const ecKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({
    type: 'pkcs8',
    format: 'pem',
  }) as string;
  const { client_email: _e, ...noEmail } = account;
  const cases: Array<[string, unknown, RegExp]> = [
    ['not an object', 'x', /JSON object/],
    ['no service account', {}, /service_account is required/],
    ['the key file as a string', { service_account: JSON.stringify(account) }, /not a string/],
    ['an unknown field', { service_account: account, CA: 'x' }, /unknown field `CA`/],
    ['no client_email', { service_account: noEmail }, /missing client_email/],
    ['a bad client_email', { service_account: { ...account, client_email: 'nobody' } }, /client_email/],
    ['another type', { service_account: { ...account, type: 'authorized_user' } }, /service_account\.type/],
    ['a bad project id', { service_account: { ...account, project_id: '../x' } }, /project_id/],
    [
      'a key that is not PEM',
      { service_account: { ...account, private_key: 'secret-bytes' } },
      /not a readable PEM/,
    ],
    ['an EC key', { service_account: { ...account, private_key: ecKey } }, /must be an RSA key \(got ec\)/],
    ['an http token_uri', { service_account: { ...account, token_uri: 'http://x/token' } }, /https URL/],
    ['a bad url', { service_account: account, url: 'fcm.googleapis.com' }, /url is not a valid URL/],
    ['a url with a query', { service_account: account, url: 'https://x/?a=1' }, /query/],
    ['a ca without certificates', { service_account: account, ca: 'hello' }, /PEM certificate/],
  ];
  for (const [name, input, message] of cases) {
    it(`refuses ${name}`, () => {
      const check = validateFcmSettings(input);
      expect(check.ok).toBe(false);
      if (check.ok) return;
      expect(check.error).toMatch(message);
      expect(check.error).not.toContain('secret-bytes');
      expect(check.error).not.toContain('PRIVATE KEY-----\n');
    });
  }
});

describe('the FCM adapter, against the fake', () => {
  let clock: ManualClock;
  let fake: FakeFcm;
  const closing = closedAfterEach();

  async function newFake(options: Parameters<typeof startFakeFcm>[0] = {}): Promise<FakeFcm> {
    return closing.fake(await startFakeFcm({ clock, ...options }));
  }

  function adapterFor(
    target: FakeFcm,
    options: Partial<FcmAdapterOptions> = {},
    credentials: FcmSettingsInput = target.credentials(),
  ): PushAdapter {
    return closing.adapter(
      createFcmAdapter(settingsOrThrow('fcm', validateFcmSettings(credentials)), { clock, ...options }),
    );
  }

  const message = (overrides: Partial<PushMessage> = {}) => pushMessage(clock.now(), overrides);

  beforeEach(async () => {
    clock = new ManualClock(T0);
    fake = await newFake();
  });

  it('sends a ring as data-only HIGH with its TTL, authenticated with the access token', async () => {
    const adapter = adapterFor(fake);
    const results = await adapter.send([
      message({ channel: 'ring', token: 'phone-a', collapseId: 'call-1', expiresAt: clock.now() + 20_000 }),
    ]);
    expect(results).toEqual([
      { ok: true, providerMessageId: expect.stringMatching(/^projects\/bellhop-test\/messages\/\d+$/) },
    ]);
    const [received] = fake.received;
    expect(received?.status).toBe(200);
    expect(received?.headers.authorization).toBe(`Bearer ${fake.tokenRequests[0]?.accessToken}`);
    expect(received?.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(received?.body).toEqual({
      message: {
        token: 'phone-a',
        data: { device: 'cam-1', title: 'Front door', body: 'Someone is at the door', channel: 'ring' },
        android: { priority: 'HIGH', ttl: '20s', collapse_key: 'call-1' },
      },
    });
  });

  it('sends a message with notification, data, channel id and collapse key', async () => {
    const adapter = adapterFor(fake);
    const results = await adapter.send([
      message({ token: 'phone-b', androidChannelId: 'doorbell', sound: 'ding', collapseId: 'door-1' }),
    ]);
    expect(results[0]?.ok).toBe(true);
    expect(fake.received[0]?.body).toEqual({
      message: {
        token: 'phone-b',
        notification: { title: 'Front door', body: 'Someone is at the door' },
        data: { device: 'cam-1' },
        android: {
          priority: 'HIGH',
          ttl: '30s',
          collapse_key: 'door-1',
          notification: { channel_id: 'doorbell', sound: 'ding', tag: 'door-1' },
        },
      },
    });
  });

  it('signs an assertion Google accepts, and uses one access token for many sends', async () => {
    const adapter = adapterFor(fake);
    for (let round = 0; round < 3; round += 1) {
      const results = await adapter.send(
        Array.from({ length: 20 }, (_, i) => message({ token: `t-${round}-${i}` })),
      );
      expect(results.every((result) => result.ok)).toBe(true);
      clock.advance(10 * 60_000);
    }
    expect(fake.tokensIssued).toBe(1);
    expect(fake.received).toHaveLength(60);
    const [tokenRequest] = fake.tokenRequests;
    expect(tokenRequest?.status).toBe(200);
    expect(tokenRequest?.header).toEqual({
      alg: 'RS256',
      typ: 'JWT',
      kid: fake.serviceAccount.private_key_id,
    });
    expect(tokenRequest?.claims).toEqual({
      iss: fake.serviceAccount.client_email,
      scope: FCM_SCOPE,
      aud: fake.tokenUrl,
      iat: T0 / 1000,
      exp: T0 / 1000 + 3600,
    });
  });

  it('replaces the access token once less than 5 minutes are left', async () => {
    const adapter = adapterFor(fake);
    await adapter.send([message()]);
    clock.advance(54 * 60_000 + 59_999);
    await adapter.send([message()]);
    expect(fake.tokensIssued).toBe(1);
    clock.advance(1);
    const results = await adapter.send([message()]);
    expect(results[0]?.ok).toBe(true);
    expect(fake.tokensIssued).toBe(2);
    expect(fake.tokenRequests[1]?.claims?.iat).toBe((T0 + 55 * 60_000) / 1000);
    expect(fake.received[2]?.headers.authorization).toBe(`Bearer ${fake.tokenRequests[1]?.accessToken}`);
  });

  it('on a 401 fetches one new access token, however many sends saw it, and sends again', async () => {
    const adapter = adapterFor(fake);
    await adapter.send([message()]);
    fake.revokeAccessTokens();
    const results = await adapter.send(Array.from({ length: 20 }, (_, i) => message({ token: `t-${i}` })));
    expect(results.every((result) => result.ok)).toBe(true);
    expect(fake.tokensIssued).toBe(2);
    const statuses = fake.received.slice(1).map((received) => received.status);
    expect(statuses.filter((status) => status === 401)).toHaveLength(20);
    expect(statuses.filter((status) => status === 200)).toHaveLength(20);
  });

  it('gives up with creds when the new token is refused too', async () => {
    const adapter = adapterFor(fake);
    fake.script('phone', 'UNAUTHENTICATED');
    const results = await adapter.send([message({ token: 'phone' })]);
    expect(results).toEqual([{ ok: false, failure: 'creds', reason: 'UNAUTHENTICATED' }]);
    expect(fake.tokensIssued).toBe(2);
    expect(fake.received).toHaveLength(2);
  });

  it('does not replace the access token for THIRD_PARTY_AUTH_ERROR (APNs credentials in Firebase)', async () => {
    const adapter = adapterFor(fake);
    fake.script('iphone', 'THIRD_PARTY_AUTH_ERROR');
    const results = await adapter.send([message({ token: 'iphone' })]);
    expect(results).toEqual([{ ok: false, failure: 'creds', reason: 'THIRD_PARTY_AUTH_ERROR' }]);
    expect(fake.tokensIssued).toBe(1);
    expect(fake.received).toHaveLength(1);
  });

  it('classifies every FCM error answer, per message, in order', async () => {
    const adapter = adapterFor(fake);
    const names = Object.keys(FAKE_FCM_ERRORS).filter(
      (name) => name !== 'UNAUTHENTICATED',
    ) as FakeFcmErrorName[];
    for (const name of names) fake.script(name, name);
    fake.script('quota', { error: 'QUOTA_EXCEEDED', retryAfter: '120' });
    fake.script('busy', { error: 'UNAVAILABLE', retryAfter: new Date(T0 + 30_000).toUTCString() });
    const tokens = ['ok-1', ...names, 'quota', 'busy', 'ok-2'];
    const results = await adapter.send(tokens.map((token) => message({ token })));
    expect(Object.fromEntries(tokens.map((token, i) => [token, results[i]]))).toEqual({
      'ok-1': { ok: true, providerMessageId: expect.any(String) },
      UNREGISTERED: { ok: false, failure: 'dead', reason: 'UNREGISTERED' },
      INVALID_TOKEN: { ok: false, failure: 'dead', reason: 'INVALID_ARGUMENT' },
      INVALID_ARGUMENT: { ok: false, failure: 'bad_request', reason: 'INVALID_ARGUMENT' },
      SENDER_ID_MISMATCH: { ok: false, failure: 'dead', reason: 'SENDER_ID_MISMATCH' },
      QUOTA_EXCEEDED: { ok: false, failure: 'retry', reason: 'QUOTA_EXCEEDED', retryAfterMs: 60_000 },
      UNAVAILABLE: { ok: false, failure: 'retry', reason: 'UNAVAILABLE' },
      INTERNAL: { ok: false, failure: 'retry', reason: 'INTERNAL' },
      THIRD_PARTY_AUTH_ERROR: { ok: false, failure: 'creds', reason: 'THIRD_PARTY_AUTH_ERROR' },
      PERMISSION_DENIED: { ok: false, failure: 'creds', reason: 'PERMISSION_DENIED' },
      quota: { ok: false, failure: 'retry', reason: 'QUOTA_EXCEEDED', retryAfterMs: 120_000 },
      busy: { ok: false, failure: 'retry', reason: 'UNAVAILABLE', retryAfterMs: 30_000 },
      'ok-2': { ok: true, providerMessageId: expect.any(String) },
    });
  });

  it('takes scripted answers one per request, then succeeds again', async () => {
    const adapter = adapterFor(fake);
    fake.script('phone', ['INTERNAL', 'UNAVAILABLE']);
    const failures = [];
    for (let i = 0; i < 3; i += 1) failures.push((await adapter.send([message({ token: 'phone' })]))[0]);
    expect(failures.map((result) => (result?.ok ? 'ok' : result?.reason))).toEqual([
      'INTERNAL',
      'UNAVAILABLE',
      'ok',
    ]);
  });

  it('reports a payload FCM refuses as bad_request (the fake checks the body like FCM)', async () => {
    const adapter = adapterFor(fake);
    const results = await adapter.send([message({ data: { from: 'me' } })]);
    expect(results).toEqual([{ ok: false, failure: 'bad_request', reason: 'INVALID_ARGUMENT' }]);
    expect(fake.received[0]?.status).toBe(400);
  });

  it('retries through an outage, and a proxy’s HTML error page', async () => {
    const adapter = adapterFor(fake);
    fake.setOutage('UNAVAILABLE');
    expect(await adapter.send([message(), message()])).toEqual([
      { ok: false, failure: 'retry', reason: 'UNAVAILABLE' },
      { ok: false, failure: 'retry', reason: 'UNAVAILABLE' },
    ]);
    fake.setOutage({
      status: 502,
      body: '<html><body>Bad Gateway</body></html>',
      headers: { 'retry-after': '5' },
    });
    expect(await adapter.send([message()])).toEqual([
      { ok: false, failure: 'retry', reason: 'HTTP_502', retryAfterMs: 5000 },
    ]);
    fake.setOutage(undefined);
    expect((await adapter.send([message()]))[0]?.ok).toBe(true);
  });

  it('fails every send with creds when Google refuses the assertion (a key that is not the account’s)', async () => {
    const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    }) as string;
    const adapter = adapterFor(
      fake,
      {},
      {
        ...fake.credentials(),
        service_account: { ...fake.serviceAccount, private_key: otherKey },
      },
    );
    const results = await adapter.send([message(), message()]);
    expect(results).toEqual([
      { ok: false, failure: 'creds', reason: 'oauth_invalid_grant' },
      { ok: false, failure: 'creds', reason: 'oauth_invalid_grant' },
    ]);
    expect(fake.tokenRequests).toHaveLength(1);
    expect(fake.tokenRequests[0]?.status).toBe(400);
    expect(fake.received).toHaveLength(0);
  });

  it('retries when the token endpoint fails or cannot be reached', async () => {
    const adapter = adapterFor(fake);
    fake.scriptTokenEndpoint([{ status: 503, body: 'unavailable', headers: { 'retry-after': '3' } }]);
    expect(await adapter.send([message()])).toEqual([
      { ok: false, failure: 'retry', reason: 'oauth_http_503', retryAfterMs: 3000 },
    ]);
    expect((await adapter.send([message()]))[0]?.ok).toBe(true);

    const gone = await newFake();
    const unreachable = adapterFor(fake, {}, { ...gone.credentials(), url: fake.url });
    await gone.close();
    expect(await unreachable.send([message()])).toEqual([
      { ok: false, failure: 'retry', reason: 'oauth_network_error' },
    ]);
  });

  it('verifies the server certificate: without the CA, the fake is refused (retry, tls_error)', async () => {
    const { ca: _ca, ...withoutCa } = fake.credentials();
    const store = createMemoryAccessTokenStore();
    expect(await adapterFor(fake, { accessTokens: store }, withoutCa).send([message()])).toEqual([
      { ok: false, failure: 'retry', reason: 'oauth_tls_error' },
    ]);
    await adapterFor(fake, { accessTokens: store }).send([message()]);
    expect(await adapterFor(fake, { accessTokens: store }, withoutCa).send([message()])).toEqual([
      { ok: false, failure: 'retry', reason: 'tls_error' },
    ]);
    expect(fake.received).toHaveLength(1);
  });

  it('returns retry, not an exception, when FCM cannot be reached', async () => {
    const adapter = adapterFor(fake);
    expect((await adapter.send([message()]))[0]?.ok).toBe(true);
    await closing.closeNow(fake);
    expect(await adapter.send([message(), message()])).toEqual([
      { ok: false, failure: 'retry', reason: 'network_error' },
      { ok: false, failure: 'retry', reason: 'network_error' },
    ]);
  });

  it('returns retry when the connection drops mid-request', async () => {
    const adapter = adapterFor(fake);
    fake.script('phone', 'reset');
    expect(await adapter.send([message({ token: 'phone' })])).toEqual([
      { ok: false, failure: 'retry', reason: 'network_error' },
    ]);
  });

  it('returns retry when FCM does not answer in time', async () => {
    const store = createMemoryAccessTokenStore();
    await adapterFor(fake, { accessTokens: store }).send([message()]);
    const impatient = adapterFor(fake, { accessTokens: store, requestTimeoutMs: 200 });
    fake.script('phone', 'hang');
    expect(await impatient.send([message({ token: 'phone' })])).toEqual([
      { ok: false, failure: 'retry', reason: 'timeout' },
    ]);
    expect(fake.tokensIssued).toBe(1);
  });

  it('shares access tokens through the store: keyed by account, token endpoint and key', async () => {
    const entries = new Map<string, CachedAccessToken>();
    const store: AccessTokenStore = {
      get: async (key) => entries.get(key),
      set: async (key, value) => {
        entries.set(key, value);
      },
    };
    await adapterFor(fake, { accessTokens: store }).send([message()]);
    await adapterFor(fake, { accessTokens: store }).send([message()]);
    expect(fake.tokensIssued).toBe(1);
    const keys = [...entries.keys()];
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(
      new RegExp(`^fcm ${fake.serviceAccount.client_email} ${fake.tokenUrl} [0-9a-f]{16}$`),
    );
    expect(keys[0]).not.toContain('PRIVATE KEY');
    expect([...entries.values()][0]?.expiresAt).toBe(T0 + 3_600_000);

    // Settings with another key for the same account never borrow that token.
    const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
      format: 'pem',
      type: 'pkcs8',
    });
    const right = fake.credentials();
    const wrong = {
      ...right,
      service_account: { ...right.service_account, private_key: otherKey.toString() },
    };
    const [result] = await adapterFor(fake, { accessTokens: store }, wrong).send([message()]);
    expect(result).toMatchObject({ ok: false, failure: 'creds' });
    expect(fake.tokensIssued).toBe(1);
  });

  it('sends even when the shared token store fails', async () => {
    const broken: AccessTokenStore = {
      get: () => Promise.reject(new Error('store down')),
      set: () => {
        throw new Error('store down');
      },
    };
    const results = await adapterFor(fake, { accessTokens: broken }).send([message(), message()]);
    expect(results.every((result) => result.ok)).toBe(true);
    expect(fake.tokensIssued).toBe(1);
  });

  it('reuses one connection for sequential sends', async () => {
    const adapter = adapterFor(fake, { concurrency: 1 });
    for (let i = 0; i < 5; i += 1) await adapter.send([message(), message()]);
    expect(fake.received).toHaveLength(10);
    expect(fake.connectionsOpened).toBe(1);
    expect(new Set(fake.received.map((received) => received.connection))).toEqual(new Set([1]));
  });

  it('sends 500 messages concurrently over a bounded number of connections, results in order', async () => {
    const adapter = adapterFor(fake, { concurrency: 8 });
    const tokens = Array.from({ length: 500 }, (_, i) => `device-${i}`);
    for (const [i, token] of tokens.entries()) if (i % 7 === 0) fake.script(token, 'UNREGISTERED');

    // Nothing is answered until 8 sends are in flight: the bound is reached, and not passed.
    fake.pause();
    let arrived = 0;
    const eight = new Promise<void>((resolve) => {
      fake.on('request', () => {
        arrived += 1;
        if (arrived === 8) resolve();
      });
    });
    // Two `send` calls at once: the bound is the adapter's, not the call's.
    const sending = Promise.all([
      adapter.send(tokens.slice(0, 250).map((token) => message({ token }))),
      adapter.send(tokens.slice(250).map((token) => message({ token }))),
    ]);
    await eight;
    expect(arrived).toBe(8);
    fake.resume();
    const results = (await sending).flat();

    expect(results).toHaveLength(500);
    for (const [i, result] of results.entries()) {
      expect(result.ok ? 'ok' : result.failure).toBe(i % 7 === 0 ? 'dead' : 'ok');
    }
    expect(new Set(fake.received.map((received) => received.token)).size).toBe(500);
    expect(fake.maxConcurrentSends).toBe(8);
    expect(fake.maxOpenConnections).toBeLessThanOrEqual(8);
    expect(fake.connectionsOpened).toBeLessThanOrEqual(8);
    expect(fake.tokensIssued).toBe(1);
  });

  it('after close, sends fail with retry and nothing reaches FCM', async () => {
    const adapter = adapterFor(fake);
    fake.script('slow', 'hang');
    const inFlight = adapter.send([message({ token: 'slow' })]);
    await new Promise<void>((resolve) => fake.once('request', () => resolve()));
    await adapter.close();
    expect(await inFlight).toEqual([{ ok: false, failure: 'retry', reason: 'adapter_closed' }]);
    expect(await adapter.send([message()])).toEqual([
      { ok: false, failure: 'retry', reason: 'adapter_closed' },
    ]);
    expect(fake.received).toHaveLength(1);
  });

  it('refuses invalid credentials when created', () => {
    const context = { clock, accessTokens: createMemoryAccessTokenStore() };
    expect(() =>
      fcmProvider.createAdapter({ service_account: { ...fake.serviceAccount, private_key: 'x' } }, context),
    ).toThrow(/private_key/);
  });
});
