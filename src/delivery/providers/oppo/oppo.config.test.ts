import { Value } from 'typebox/value';
import { describe, expect, it } from 'vitest';
import { FAKE_OPPO_CA } from '../../../../test/fakes/oppo-server.js';
import { oppoProvider } from './index.js';
import { OppoSettingsSchema, validateOppoSettings } from './oppo.config.js';

const SECRET = 'master-secret-never-shown';
const settings = {
  app_key: 'app-key-1',
  master_secret: SECRET,
  ring_channel_id: 'ring',
  message_channel_id: 'alerts',
  ring_category: 'IM',
  message_category: 'DEVICE_REMINDER',
};

function error(input: unknown): string {
  const check = validateOppoSettings(input);
  if (check.ok) throw new Error('expected a validation error');
  return check.error;
}

describe('validateOppoSettings', () => {
  it('accepts the console fields and fills in the defaults', () => {
    const check = validateOppoSettings(settings);
    expect(check).toEqual({
      ok: true,
      settings: {
        appKey: 'app-key-1',
        masterSecret: SECRET,
        ringChannelId: 'ring',
        messageChannelId: 'alerts',
        ringCategory: 'IM',
        messageCategory: 'DEVICE_REMINDER',
        ringNotifyLevel: 16,
        url: 'https://api.push.oppomobile.com',
        intlUrl: 'https://api-intl.push.oppomobile.com',
        ca: undefined,
      },
    });
    expect(Value.Check(OppoSettingsSchema, settings)).toBe(true);
  });

  it('accepts overrides: notify level, hosts (trailing slash dropped) and a CA', () => {
    const check = validateOppoSettings({
      ...settings,
      notify_level: 2,
      url: 'https://127.0.0.1:8443/',
      intl_url: 'http://proxy.local/oppo-intl',
      ca: FAKE_OPPO_CA,
    });
    expect(check.ok && check.settings).toMatchObject({
      ringNotifyLevel: 2,
      url: 'https://127.0.0.1:8443',
      intlUrl: 'http://proxy.local/oppo-intl',
      ca: FAKE_OPPO_CA,
    });
  });

  const cases: Array<[string, unknown, string | RegExp]> = [
    ['not an object', 'x', /must be a JSON object/],
    ['missing fields', { app_key: 'k' }, /^missing master_secret/],
    ['no ring channel', { ...settings, ring_channel_id: undefined }, 'missing ring_channel_id'],
    ['an unknown field', { ...settings, appKey: 'x' }, /unknown field `appKey`/],
    ['the AppSecret', { ...settings, app_secret: SECRET }, /app_secret is not needed/],
    ['a secret of the wrong type', { ...settings, master_secret: 42 }, 'master_secret must be a string'],
    ['an empty secret', { ...settings, master_secret: '' }, /^master_secret /],
    ['a lower-case category', { ...settings, ring_category: 'im' }, /ring_category must be an OPPO category/],
    ['a channel with spaces', { ...settings, message_channel_id: 'my alerts' }, /message_channel_id must be/],
    [
      'a notify level OPPO does not have',
      { ...settings, notify_level: 3 },
      'notify_level must be 1, 2 or 16',
    ],
    ['a url that is not one', { ...settings, url: 'api.push.oppomobile.com' }, 'url is not a valid URL'],
    [
      'an intl_url with a query',
      { ...settings, intl_url: 'https://x/?a=1' },
      'intl_url must not have a ?query',
    ],
    ['a url with a password', { ...settings, url: `https://u:${SECRET}@x` }, /user name or password/],
    ['a ca without certificates', { ...settings, ca: 'hello' }, /PEM certificate/],
  ];
  for (const [name, input, message] of cases) {
    it(`refuses ${name}, without echoing the secret`, () => {
      const problem = error(input);
      if (typeof message === 'string') expect(problem).toBe(message);
      else expect(problem).toMatch(message);
      expect(problem).not.toContain(SECRET);
    });
  }
});

describe('the OPPO settings in the admin API', () => {
  it('validates through the catalogue module', () => {
    expect(oppoProvider.settings.validate(settings)).toBeUndefined();
    expect(oppoProvider.settings.validate({ ...settings, master_secret: undefined })).toBe(
      'missing master_secret',
    );
  });

  it('describes the settings without the master secret', () => {
    const shown = oppoProvider.settings.describe({ ...settings, ca: FAKE_OPPO_CA });
    expect(shown).toEqual({
      app_key: 'app-key-1',
      ring_channel_id: 'ring',
      message_channel_id: 'alerts',
      ring_category: 'IM',
      message_category: 'DEVICE_REMINDER',
      notify_level: 16,
      url: null,
      intl_url: null,
      ca: 'configured',
    });
    expect(JSON.stringify(shown)).not.toContain(SECRET);
  });
});
