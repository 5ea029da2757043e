export const makerPlatforms = ['HUAWEI', 'HONOR', 'XIAOMI', 'OPPO', 'VIVO', 'MEIZU', 'FCM'] as const;
export type MakerPlatform = (typeof makerPlatforms)[number];
export type Provider = 'apns' | 'fcm' | 'huawei' | 'honor' | 'xiaomi' | 'oppo' | 'vivo' | 'meizu' | 'none';

export interface Route {
  provider: Provider;
  /** The token the provider is addressed with; null when there is no route. */
  providerToken: string | null;
  apnsEnvironment: 'production' | 'sandbox' | null;
}

export interface RoutableRegistration {
  push_token: string;
  os: string;
  os_token: string;
  push_platform: string;
  dev: number;
}

/** Other spellings of the platform names that SDKs and older clients send. */
const platformAliases: Record<string, string> = {
  HMS: 'HUAWEI',
  MI: 'XIAOMI',
  MIPUSH: 'XIAOMI',
  FLYME: 'MEIZU',
  GCM: 'FCM',
  APNS: 'IOS',
};

export function normalizePlatform(value: string): string {
  const upper = value.trim().toUpperCase();
  return platformAliases[upper] ?? upper;
}

function isMakerPlatform(platform: string): platform is MakerPlatform {
  return (makerPlatforms as readonly string[]).includes(platform);
}

/**
 * The routing table of design.md: a maker token wins when one is given; FCM may carry its
 * token in `push_token`; iOS goes to APNs (`dev: 1` = sandbox); anything else (an app's own
 * long-connection token, for example) has no route yet.
 */
export function routeRegistration(registration: RoutableRegistration): Route {
  const platform = normalizePlatform(registration.push_platform);
  const os = normalizePlatform(registration.os);
  if (isMakerPlatform(platform) && registration.os_token !== '') {
    return {
      provider: platform.toLowerCase() as Provider,
      providerToken: registration.os_token,
      apnsEnvironment: null,
    };
  }
  if (platform === 'FCM')
    return { provider: 'fcm', providerToken: registration.push_token, apnsEnvironment: null };
  if ((os === '' || os === 'IOS') && (platform === '' || platform === 'IOS')) {
    return {
      provider: 'apns',
      providerToken: registration.push_token,
      apnsEnvironment: registration.dev === 1 ? 'sandbox' : 'production',
    };
  }
  return { provider: 'none', providerToken: null, apnsEnvironment: null };
}
