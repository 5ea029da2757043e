import { Value } from 'typebox/value';
import { describe, expect, it } from 'vitest';
import { FAKE_XIAOMI_CA } from '../../../../test/fakes/xiaomi-server.js';
import { xiaomiProvider } from './index.js';
import { validateXiaomiSettings, XIAOMI_REGION_URLS, XiaomiSettingsSchema } from './xiaomi.config.js';

const secret = 'SECRETsecretSECRET12==';
const valid = {
  app_secret: secret,
  package_name: 'com.example.doorbell',
  ring_channel_id: 'doorbell_ring',
  message_channel_id: '10231',
};

function error(input: unknown): string {
  const result = validateXiaomiSettings(input);
  if (result.ok) throw new Error('expected a validation error');
  return result.error;
}

describe('validateXiaomiSettings', () => {
  it('accepts the console values, in China by default', () => {
    const result = validateXiaomiSettings(valid);
    expect(result).toEqual({
      ok: true,
      settings: {
        appSecret: secret,
        packageName: 'com.example.doorbell',
        region: 'cn',
        baseUrl: 'https://api.xmpush.xiaomi.com',
        ringChannelId: 'doorbell_ring',
        messageChannelId: '10231',
        ca: undefined,
      },
    });
    expect(Value.Check(XiaomiSettingsSchema, valid)).toBe(true);
  });

  it.each(Object.entries(XIAOMI_REGION_URLS))('sends region %s to %s', (region, url) => {
    const result = validateXiaomiSettings({ ...valid, region });
    expect(result.ok && result.settings.baseUrl).toBe(url);
  });

  it('lets url replace the region’s host, and a deployment replace the region table', () => {
    const overridden = validateXiaomiSettings({
      ...valid,
      region: 'europe',
      url: 'https://proxy.example/mi/',
    });
    expect(overridden.ok && overridden.settings.baseUrl).toBe('https://proxy.example/mi');
    const table = { ...XIAOMI_REGION_URLS, india: 'http://127.0.0.1:9/india' };
    const routed = validateXiaomiSettings({ ...valid, region: 'india' }, table);
    expect(routed.ok && routed.settings.baseUrl).toBe('http://127.0.0.1:9/india');
  });

  it('accepts an app id, a CA, and a proxy URL', () => {
    const full = {
      ...valid,
      app_id: '2882303761517000000',
      ca: FAKE_XIAOMI_CA,
      url: 'http://127.0.0.1:8080',
    };
    expect(validateXiaomiSettings(full).ok).toBe(true);
    expect(Value.Check(XiaomiSettingsSchema, full)).toBe(true);
  });

  it('explains the shape', () => {
    expect(error(null)).toBe('Xiaomi settings must be a JSON object');
    expect(error([])).toBe('Xiaomi settings must be a JSON object');
    expect(error({ ...valid, appSecret: 'x' })).toMatch(/^unknown field `appSecret` \(expected app_secret, /);
    expect(error({ ...valid, ring_channel_id: undefined })).toBe('missing ring_channel_id');
    expect(error({ package_name: 'com.example.a' })).toBe('missing app_secret');
    expect(error({ ...valid, region: 3 })).toBe('region must be a string');
  });

  it('explains each field in the console’s words', () => {
    expect(error({ ...valid, app_secret: 'short' })).toMatch(/^app_secret must be the AppSecret/);
    expect(error({ ...valid, app_secret: 'has a space in it' })).toMatch(/^app_secret must be the AppSecret/);
    expect(error({ ...valid, package_name: 'doorbell' })).toBe(
      'package_name must be an Android package name such as com.example.doorbell',
    );
    expect(error({ ...valid, message_channel_id: 'a,b' })).toMatch(
      /^message_channel_id must be a channel id/,
    );
    expect(error({ ...valid, ring_channel_id: '' })).toMatch(/^ring_channel_id must be a channel id/);
    expect(error({ ...valid, region: 'mars' })).toBe(
      'region must be one of cn, global, russia, india, europe, singapore',
    );
    expect(error({ ...valid, app_id: 'abc' })).toBe(
      'app_id must be the AppID from the Xiaomi console (digits)',
    );
    expect(error({ ...valid, url: 'ftp://x.example' })).toBe('url must be an https or an http URL');
    expect(error({ ...valid, url: 'https://x.example/?a=1' })).toBe('url must not have a ?query');
    expect(error({ ...valid, ca: 'not a certificate' })).toMatch(/^ca must hold PEM certificate/);
  });

  it('never echoes the secret', () => {
    for (const app_secret of ['SECRET VALUE', 'SECRET', 'SECRET\u0000VALUE']) {
      expect(error({ ...valid, app_secret })).not.toContain('SECRET');
    }
  });
});

describe('the Xiaomi settings in the admin API', () => {
  it('describe shows what identifies the app, never the secret', () => {
    const shown = xiaomiProvider.settings.describe({
      ...valid,
      app_id: '2882303761517000000',
      ca: FAKE_XIAOMI_CA,
    });
    expect(shown).toEqual({
      app_id: '2882303761517000000',
      package_name: 'com.example.doorbell',
      region: 'cn',
      ring_channel_id: 'doorbell_ring',
      message_channel_id: '10231',
      url: null,
      ca: 'configured',
    });
    expect(JSON.stringify(shown)).not.toContain(secret);
  });

  it('validate answers with the problem or nothing', () => {
    expect(xiaomiProvider.settings.validate(valid)).toBeUndefined();
    expect(xiaomiProvider.settings.validate({ ...valid, region: 'eu' })).toMatch(/^region must be one of/);
  });
});
