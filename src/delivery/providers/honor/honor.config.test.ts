import { describe, expect, it } from 'vitest';
import { FAKE_HONOR_CA } from '../../../../test/fakes/honor-server.js';
import { HONOR_HOSTS, validateHonorSettings } from './honor.config.js';
import { honorProvider } from './index.js';

const SECRET = 'console-secret-9f8e7d';
const base = { app_id: '104400001', client_id: 'client-1', client_secret: SECRET };

describe('validateHonorSettings', () => {
  it('fills in the hihonor hosts and NORMAL importance', () => {
    const check = validateHonorSettings(base);
    expect(check).toEqual({
      ok: true,
      settings: {
        appId: '104400001',
        clientId: 'client-1',
        clientSecret: SECRET,
        ringChannelId: undefined,
        messageChannelId: undefined,
        ringImportance: 'NORMAL',
        messageImportance: 'NORMAL',
        ringCategory: undefined,
        baseUrl: HONOR_HOSTS.hihonor.url,
        authUrl: HONOR_HOSTS.hihonor.authUrl,
        ca: undefined,
      },
    });
  });

  it('takes every console field and the overrides', () => {
    const check = validateHonorSettings({
      ...base,
      ring_channel_id: 'calls',
      message_channel_id: 'alerts',
      ring_importance: 'NORMAL',
      message_importance: 'LOW',
      ring_category: 'VOIP',
      url: `${HONOR_HOSTS.honor.url}/`,
      auth_url: HONOR_HOSTS.honor.authUrl,
      ca: FAKE_HONOR_CA,
    });
    expect(check.ok && check.settings).toMatchObject({
      ringChannelId: 'calls',
      messageChannelId: 'alerts',
      messageImportance: 'LOW',
      ringCategory: 'VOIP',
      baseUrl: 'https://push-api.cloud.honor.com',
      authUrl: 'https://iam.developer.honor.com/auth/token',
    });
  });

  const cases: Array<[string, unknown, RegExp]> = [
    ['not an object', 'x', /JSON object/],
    ['missing ids', { client_secret: SECRET }, /missing app_id, client_id/],
    ['an unknown field', { ...base, appSecret: SECRET }, /unknown field `appSecret`/],
    ['an app id with a slash', { ...base, app_id: '10/44' }, /APP ID/],
    ['a numeric app id', { ...base, app_id: 104400001 }, /app_id/],
    ['an empty secret', { ...base, client_secret: '' }, /client_secret/],
    ['another importance', { ...base, ring_importance: 'HIGH' }, /ring_importance must be "NORMAL" or "LOW"/],
    ['a lower-case category', { ...base, ring_category: 'voip' }, /ring_category/],
    ['a bad url', { ...base, url: 'push-api.cloud.hihonor.com' }, /url is not a valid URL/],
    ['a url with a query', { ...base, url: 'https://x/?a=1' }, /query/],
    ['an http token endpoint', { ...base, auth_url: 'http://x/token' }, /auth_url must be an https URL/],
    ['a ca without certificates', { ...base, ca: 'hello' }, /PEM certificate/],
  ];
  for (const [name, input, message] of cases) {
    it(`refuses ${name}, without repeating the secret`, () => {
      const check = validateHonorSettings(input);
      expect(check.ok).toBe(false);
      if (check.ok) return;
      expect(check.error).toMatch(message);
      expect(check.error).not.toContain(SECRET);
    });
  }
});

describe('the Honor provider module', () => {
  it('describes the settings without the secret', () => {
    const shown = honorProvider.settings.describe({ ...base, ring_channel_id: 'calls', ca: FAKE_HONOR_CA });
    expect(shown).toEqual({
      app_id: '104400001',
      client_id: 'client-1',
      ring_channel_id: 'calls',
      message_channel_id: null,
      ring_importance: 'NORMAL',
      message_importance: 'NORMAL',
      ring_category: null,
      url: null,
      auth_url: null,
      ca: 'configured',
    });
    expect(JSON.stringify(shown)).not.toContain(SECRET);
  });

  it('validates for the admin API', () => {
    expect(honorProvider.settings.validate(base)).toBeUndefined();
    expect(honorProvider.settings.validate({ ...base, url: 'nope' })).toMatch(/url/);
  });
});
