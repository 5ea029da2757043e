import { describe, expect, it } from 'vitest';
import { FAKE_VIVO_CA } from '../../../../test/fakes/vivo-server.js';
import { vivoProvider } from './index.js';
import { describeVivoSettings, validateVivoSettings } from './vivo.config.js';

const SECRET = 'do-not-echo-this-secret';
const valid = {
  app_id: '105123456',
  app_key: 'f3c1a2b4d5e6-appkey',
  app_secret: SECRET,
  ring_category: 'IM',
  message_category: 'DEVICE_REMINDER',
};

function problem(input: unknown): string {
  const check = validateVivoSettings(input);
  if (check.ok) throw new Error('expected a problem');
  expect(check.error).not.toContain(SECRET);
  return check.error;
}

describe('vivo settings', () => {
  it('accepts the console values and fills in the defaults', () => {
    const check = validateVivoSettings(valid);
    expect(check).toEqual({
      ok: true,
      settings: {
        appId: '105123456',
        appKey: 'f3c1a2b4d5e6-appkey',
        appSecret: SECRET,
        ringCategory: 'IM',
        messageCategory: 'DEVICE_REMINDER',
        baseUrl: 'https://api-push.vivo.com.cn',
        authUrl: 'https://api-push.vivo.com.cn/message/auth',
        ca: undefined,
      },
    });
  });

  it('takes url, auth_url and ca overrides', () => {
    const check = validateVivoSettings({
      ...valid,
      url: 'https://127.0.0.1:8443/',
      auth_url: 'http://proxy.internal/vivo/auth',
      ca: FAKE_VIVO_CA,
    });
    expect(check.ok && check.settings).toMatchObject({
      baseUrl: 'https://127.0.0.1:8443',
      authUrl: 'http://proxy.internal/vivo/auth',
      ca: FAKE_VIVO_CA,
    });
  });

  it.each([
    [null, /must be a JSON object/],
    [
      { app_id: valid.app_id, app_key: 'k', ring_category: 'IM', message_category: 'IM' },
      /^missing app_secret$/,
    ],
    [{ app_id: '1' }, /^missing /],
    [{ ...valid, appSecret: SECRET }, /unknown field `appSecret`/],
    [{ ...valid, app_id: 105123456 }, /app_id must be a string/],
    [{ ...valid, app_id: 'abc' }, /numeric App ID/],
    [{ ...valid, app_secret: '' }, /app_secret must not be empty/],
    [{ ...valid, app_secret: ` ${SECRET}` }, /must not start or end with spaces/],
    [{ ...valid, ring_category: 'im' }, /ring_category must be a vivo message class/],
    [{ ...valid, ring_category: 'MARKETING' }, /operation class/],
    [{ ...valid, url: 'ftp://example.com' }, /url must be an https or an http URL/],
    [{ ...valid, url: 'https://example.com/?a=1' }, /url must not have a \?query/],
    [{ ...valid, auth_url: 'not a url' }, /auth_url is not a valid URL/],
    [{ ...valid, ca: 'nope' }, /ca must hold PEM/],
  ])('refuses case %# with an operator-readable message that never echoes the secret', (input, expected) => {
    expect(problem(input)).toMatch(expected);
  });

  it('describes the settings without the secret, the AppKey only by its start', () => {
    const shown = describeVivoSettings({ ...valid, ca: FAKE_VIVO_CA });
    expect(shown).toEqual({
      app_id: '105123456',
      app_key: 'f3c1…',
      ring_category: 'IM',
      message_category: 'DEVICE_REMINDER',
      url: null,
      auth_url: null,
      ca: 'configured',
    });
    expect(JSON.stringify(shown)).not.toContain(SECRET);
    expect(JSON.stringify(shown)).not.toContain(valid.app_key);
  });

  it('is in the catalogue module with the same checks', () => {
    expect(vivoProvider.id).toBe('vivo');
    expect(vivoProvider.settings.validate(valid)).toBeUndefined();
    expect(vivoProvider.settings.validate({ ...valid, app_id: '' })).toMatch(/app_id/);
  });
});
