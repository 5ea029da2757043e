import { describe, expect, it } from 'vitest';
import {
  EXPECTED_HUAWEI_FAILURES,
  huaweiMessage as pushMessage,
} from '../../../../test/fakes/huawei-fixtures.js';
import {
  FAKE_HUAWEI_CA,
  FAKE_HUAWEI_ERRORS,
  type FakeHuaweiErrorName,
} from '../../../../test/fakes/huawei-server.js';
import { validateHuaweiSettings } from './huawei.config.js';
import {
  classifyHuaweiFailure,
  HUAWEI_CODE_CLASSES,
  illegalTokens,
  parseHuaweiReply,
} from './huawei.errors.js';
import { buildHuaweiRequest, huaweiTtl } from './huawei.request.js';
import { huaweiProvider } from './index.js';

const T0 = Date.UTC(2026, 10, 30, 12, 0, 0);
const SECRET = 'not-to-be-shown-0123456789';
const base = { app_id: '101234567', client_secret: SECRET };
const settings = {
  appId: '101234567',
  baseUrl: 'https://push-api.cloud.huawei.com',
  messageChannelId: undefined,
  ringChannelId: undefined,
  importance: undefined,
  category: undefined,
};

const bodyOf = (request: { body: string }) =>
  JSON.parse(request.body) as { validate_only: boolean; message: Record<string, unknown> };

describe('validateHuaweiSettings', () => {
  it('accepts the App ID and secret, and fills in client id and URLs', () => {
    const check = validateHuaweiSettings(base);
    expect(check).toEqual({
      ok: true,
      settings: {
        appId: '101234567',
        clientId: '101234567',
        clientSecret: SECRET,
        messageChannelId: undefined,
        ringChannelId: undefined,
        importance: undefined,
        category: undefined,
        baseUrl: 'https://push-api.cloud.huawei.com',
        authUrl: 'https://oauth-login.cloud.huawei.com/oauth2/v3/token',
        ca: undefined,
      },
    });
  });

  it('accepts every optional field', () => {
    const check = validateHuaweiSettings({
      ...base,
      client_id: '108888888',
      message_channel_id: 'alerts',
      ring_channel_id: 'calls',
      importance: 'NORMAL',
      category: 'DEVICE_REMINDER',
      url: 'https://proxy.example/huawei/',
      auth_url: 'https://proxy.example/oauth2/v3/token',
      ca: FAKE_HUAWEI_CA,
    });
    expect(check.ok && check.settings).toMatchObject({
      clientId: '108888888',
      baseUrl: 'https://proxy.example/huawei',
      authUrl: 'https://proxy.example/oauth2/v3/token',
      importance: 'NORMAL',
      category: 'DEVICE_REMINDER',
    });
  });

  const cases: Array<[string, unknown, RegExp]> = [
    ['not an object', 'x', /JSON object/],
    ['no app_id', { client_secret: SECRET }, /missing app_id/],
    ['no client_secret', { app_id: '1' }, /missing client_secret/],
    ['an unknown field', { ...base, app_secret: SECRET }, /unknown field `app_secret`/],
    ['an app_id as a number', { ...base, app_id: 101234567 }, /app_id must be a string/],
    ['an app_id that is not digits', { ...base, app_id: 'com.example' }, /app_id must be the App ID/],
    ['a client_id that is not digits', { ...base, client_id: 'x y' }, /client_id/],
    ['an empty secret', { ...base, client_secret: '' }, /client_secret must not be empty/],
    ['a secret with a line break', { ...base, client_secret: `${SECRET}\n` }, /client_secret must not/],
    ['a wrong importance', { ...base, importance: 'URGENT' }, /importance must be one of LOW, NORMAL, HIGH/],
    ['a wrong category', { ...base, category: 'DOORBELL' }, /category must be one of IM, VOIP/],
    ['a bad url', { ...base, url: 'push-api.cloud.huawei.com' }, /url is not a valid URL/],
    ['a url with a query', { ...base, url: 'https://x/?a=1' }, /query/],
    ['a bad auth_url', { ...base, auth_url: 'ftp://x/token' }, /auth_url must be/],
    ['a ca without certificates', { ...base, ca: 'hello' }, /PEM certificate/],
  ];
  for (const [name, input, message] of cases) {
    it(`refuses ${name}, without echoing the secret`, () => {
      const check = validateHuaweiSettings(input);
      expect(check.ok).toBe(false);
      if (check.ok) return;
      expect(check.error).toMatch(message);
      expect(check.error).not.toContain(SECRET);
    });
  }

  it('describes the settings without the secret', () => {
    const shown = huaweiProvider.settings.describe({ ...base, ca: FAKE_HUAWEI_CA, ring_channel_id: 'calls' });
    expect(shown).toEqual({
      app_id: '101234567',
      client_id: '101234567',
      message_channel_id: null,
      ring_channel_id: 'calls',
      importance: null,
      category: null,
      url: 'https://push-api.cloud.huawei.com',
      auth_url: 'https://oauth-login.cloud.huawei.com/oauth2/v3/token',
      ca: 'configured',
    });
    expect(JSON.stringify(shown)).not.toContain(SECRET);
    expect(huaweiProvider.settings.validate({ ...base, importance: 'x' })).toMatch(/importance/);
    expect(huaweiProvider.settings.validate(base)).toBeUndefined();
  });
});

describe('buildHuaweiRequest', () => {
  it('sends a ring as a HIGH-urgency VOIP data message living until expiresAt', () => {
    const request = buildHuaweiRequest(
      [pushMessage(T0, { channel: 'ring', collapseId: 'call-42', expiresAt: T0 + 30_999 })],
      { ...settings, ringChannelId: 'calls', messageChannelId: 'alerts', category: 'DEVICE_REMINDER' },
      T0,
    );
    expect(request.method).toBe('POST');
    expect(request.url).toBe('https://push-api.cloud.huawei.com/v1/101234567/messages:send');
    expect(request.headers).toEqual({ 'content-type': 'application/json;charset=utf-8' });
    const body = bodyOf(request);
    expect(body).toEqual({
      validate_only: false,
      message: {
        data: expect.any(String),
        android: { ttl: '30s', urgency: 'HIGH', category: 'VOIP' },
        token: ['token-1'],
      },
    });
    expect(JSON.parse(body.message.data as string)).toEqual({
      device: 'cam-1',
      title: 'Front door',
      body: 'Someone is at the door',
      channel_id: 'calls',
      channel: 'ring',
    });
  });

  it('sends a message as a notification opening the app, on the app’s channel, for many tokens', () => {
    const messages = ['a', 'b', 'c'].map((token) =>
      pushMessage(T0, { token, collapseId: 'door', sound: 'chime', expiresAt: T0 + 86_400_000 }),
    );
    const request = buildHuaweiRequest(
      messages,
      { ...settings, messageChannelId: 'alerts', importance: 'NORMAL', category: 'DEVICE_REMINDER' },
      T0,
    );
    expect(bodyOf(request).message).toEqual({
      data: '{"device":"cam-1"}',
      android: {
        ttl: '86400s',
        category: 'DEVICE_REMINDER',
        notification: {
          title: 'Front door',
          body: 'Someone is at the door',
          click_action: { type: 3 },
          channel_id: 'alerts',
          importance: 'NORMAL',
          tag: 'door',
          sound: '/raw/chime',
          default_sound: false,
        },
      },
      token: ['a', 'b', 'c'],
    });
  });

  it('leaves out what is not set; the message channel falls back to the worker’s', () => {
    const message = bodyOf(
      buildHuaweiRequest(
        [pushMessage(T0, { title: undefined, data: {}, androidChannelId: 'from-worker' })],
        settings,
        T0,
      ),
    ).message;
    expect(message).toEqual({
      android: {
        ttl: '30s',
        notification: {
          body: 'Someone is at the door',
          click_action: { type: 3 },
          channel_id: 'from-worker',
        },
      },
      token: ['token-1'],
    });
  });

  it('writes the TTL in whole seconds, at least 1s, at most 15 days', () => {
    expect(huaweiTtl(T0 + 1_999, T0)).toBe('1s');
    expect(huaweiTtl(T0 + 999, T0)).toBe('1s');
    expect(huaweiTtl(T0 - 5_000, T0)).toBe('1s');
    expect(huaweiTtl(T0 + 365 * 86_400_000, T0)).toBe('1296000s');
  });

  it('is what inbox mode stores, with or without settings', () => {
    const withSettings = huaweiProvider.buildRequest(
      pushMessage(T0),
      { ...base, url: 'https://proxy.example/hms', message_channel_id: 'alerts' },
      T0,
    );
    expect(withSettings.url).toBe('https://proxy.example/hms/v1/101234567/messages:send');
    expect(withSettings.headers).not.toHaveProperty('authorization');
    expect(JSON.stringify(withSettings)).not.toContain(SECRET);
    const inbox = huaweiProvider.buildRequest(pushMessage(T0), undefined, T0);
    expect(inbox.url).toBe('https://push-api.cloud.huawei.com/v1/inbox/messages:send');
    expect(bodyOf(inbox).message.token).toEqual(['token-1']);
  });
});

describe('Push Kit answers', () => {
  const expected = EXPECTED_HUAWEI_FAILURES;

  it('has a class for every code of the reference table', () => {
    expect(Object.keys(HUAWEI_CODE_CLASSES).sort()).toEqual(
      Object.keys(expected)
        .filter((code) => code !== 'FLOW_CONTROL')
        .sort(),
    );
  });

  for (const [name, answer] of Object.entries(FAKE_HUAWEI_ERRORS)) {
    it(`classifies Push Kit's ${name} answer`, () => {
      const headers = answer as { headers?: Record<string, string> };
      const result = classifyHuaweiFailure(
        {
          status: answer.status,
          reply: parseHuaweiReply(answer.body),
          retryAfter: headers.headers?.['retry-after'],
        },
        T0,
      );
      expect([result.failure, result.reason]).toEqual(expected[name as FakeHuaweiErrorName]);
      if (name === 'FLOW_CONTROL') expect(result.retryAfterMs).toBe(60_000);
    });
  }

  it('falls back to the HTTP status when there is no code', () => {
    const classify = (status: number, body = '', retryAfter?: string) =>
      classifyHuaweiFailure({ status, reply: parseHuaweiReply(body), retryAfter }, T0);
    expect(classify(502, '<html>Bad Gateway</html>', '7')).toEqual({
      ok: false,
      failure: 'retry',
      reason: 'HTTP_502',
      retryAfterMs: 7000,
    });
    expect(classify(429, '', new Date(T0 + 30_000).toUTCString())).toMatchObject({
      failure: 'retry',
      retryAfterMs: 30_000,
    });
    expect(classify(401)).toMatchObject({ failure: 'creds', reason: 'HTTP_401' });
    expect(classify(404, '{"error":"Not Found"}')).toMatchObject({
      failure: 'bad_request',
      reason: 'HTTP_404',
    });
    expect(classify(200, '{"code":"89999999","msg":"new"}')).toMatchObject({
      failure: 'retry',
      reason: '89999999',
    });
    expect(classify(503, '{"code":"80100003","msg":"x"}')).toMatchObject({ failure: 'retry' });
  });

  it('reads the illegal tokens of a partial success, also from a msg that is not JSON', () => {
    const msg = '{"success":2,"failure":1,"illegal_tokens":["t2"]}';
    expect(parseHuaweiReply(JSON.stringify({ code: '80100000', msg, requestId: 'r1' }))).toEqual({
      code: '80100000',
      msg,
      requestId: 'r1',
    });
    expect([...illegalTokens(msg, ['t1', 't2', 't3'])]).toEqual(['t2']);
    expect([...illegalTokens('illegal tokens: ["t3"]', ['t1', 't3'])]).toEqual(['t3']);
    expect([...illegalTokens(undefined, ['t1'])]).toEqual([]);
    expect(parseHuaweiReply('<html>')).toEqual({ code: undefined, msg: undefined, requestId: undefined });
  });
});
