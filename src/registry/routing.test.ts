import { describe, expect, it } from 'vitest';
import { fallbackRoute, routeRegistration } from './routing.js';

const base = { push_token: 'PUSH', os: '', os_token: '', push_platform: '', dev: 0 };

describe('routing a registration to a provider', () => {
  it.each([
    [{ push_platform: 'HUAWEI', os_token: 'HW' }, 'huawei', 'HW', null],
    [{ push_platform: 'honor', os_token: 'HN' }, 'honor', 'HN', null],
    [{ push_platform: 'Xiaomi', os_token: 'MI' }, 'xiaomi', 'MI', null],
    [{ push_platform: 'MIPUSH', os_token: 'MI' }, 'xiaomi', 'MI', null],
    [{ push_platform: 'HMS', os_token: 'HW' }, 'huawei', 'HW', null],
    [{ push_platform: 'OPPO', os_token: 'OP' }, 'oppo', 'OP', null],
    [{ push_platform: 'vivo', os_token: 'VV' }, 'vivo', 'VV', null],
    [{ push_platform: 'MEIZU', os_token: 'MZ' }, 'meizu', 'MZ', null],
    [{ push_platform: 'FCM', os_token: 'F1' }, 'fcm', 'F1', null],
    [{ push_platform: 'FCM' }, 'fcm', 'PUSH', null],
    [{}, 'apns', 'PUSH', 'production'],
    [{ os: 'iOS', dev: 1 }, 'apns', 'PUSH', 'sandbox'],
    [{ os: 'IOS', push_platform: 'APNS' }, 'apns', 'PUSH', 'production'],
    [{ os: 'Android', push_platform: 'android' }, 'none', null, null],
    [{ push_platform: 'HUAWEI' }, 'none', null, null],
    [{ os: 'Huawei' }, 'none', null, null],
  ] as const)('%o → %s', (fields, provider, providerToken, apnsEnvironment) => {
    expect(routeRegistration({ ...base, ...fields })).toEqual({ provider, providerToken, apnsEnvironment });
  });
});

describe('routing a push token of Bellhop’s own push channel', () => {
  const isChannelToken = (token: string) => token.startsWith('bhc1_');
  const channelToken = 'bhc1_phone';

  it.each([
    [{ os: 'Android', push_platform: 'android' }],
    [{ os: 'ANDROID', push_platform: 'FCM', os_token: 'F1' }],
    [{ push_platform: 'HUAWEI', os_token: 'HW' }],
    [{}],
  ] as const)('%o → channel', (fields) => {
    expect(routeRegistration({ ...base, push_token: channelToken, ...fields }, isChannelToken)).toEqual({
      provider: 'channel',
      providerToken: channelToken,
      apnsEnvironment: null,
    });
  });

  it('falls back to the phone maker’s token, never to the channel token itself', () => {
    expect(
      fallbackRoute({ ...base, push_token: channelToken, push_platform: 'HUAWEI', os_token: 'HW' }),
    ).toEqual({
      provider: 'huawei',
      providerToken: 'HW',
      apnsEnvironment: null,
    });
    expect(fallbackRoute({ ...base, push_token: channelToken, push_platform: 'FCM' })).toBeUndefined();
    expect(fallbackRoute({ ...base, push_token: channelToken, push_platform: 'android' })).toBeUndefined();
  });

  it('leaves tokens the channel did not issue to the table', () => {
    expect(routeRegistration({ ...base, push_platform: 'FCM' }, isChannelToken).provider).toBe('fcm');
  });
});
