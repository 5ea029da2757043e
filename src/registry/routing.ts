export const makerPlatforms = ['HUAWEI', 'HONOR', 'XIAOMI', 'OPPO', 'VIVO', 'MEIZU', 'FCM'] as const;
export type MakerPlatform = (typeof makerPlatforms)[number];
export type Provider =
  | 'channel'
  | 'apns'
  | 'fcm'
  | 'huawei'
  | 'honor'
  | 'xiaomi'
  | 'oppo'
  | 'vivo'
  | 'meizu'
  | 'none';

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

const noRoute: Route = { provider: 'none', providerToken: null, apnsEnvironment: null };

/** The phone maker's channel of a registration (`push_platform` + `os_token`), if it has one. */
export function makerRoute(registration: RoutableRegistration): Route | undefined {
  const platform = normalizePlatform(registration.push_platform);
  if (!isMakerPlatform(platform) || registration.os_token === '') return undefined;
  return {
    provider: platform.toLowerCase() as Provider,
    providerToken: registration.os_token,
    apnsEnvironment: null,
  };
}

/**
 * The routing table of design.md: a push token issued by Bellhop's own push channel goes
 * there (`isChannelToken` recognises them); otherwise a maker token wins when one is given;
 * FCM may carry its token in `push_token`; iOS goes to APNs (`dev: 1` = sandbox); anything
 * else (another service's long-connection token, for example) has no route.
 */
export function routeRegistration(
  registration: RoutableRegistration,
  isChannelToken: (token: string) => boolean = () => false,
): Route {
  if (isChannelToken(registration.push_token))
    return { provider: 'channel', providerToken: registration.push_token, apnsEnvironment: null };
  const maker = makerRoute(registration);
  if (maker !== undefined) return maker;
  const platform = normalizePlatform(registration.push_platform);
  const os = normalizePlatform(registration.os);
  if (platform === 'FCM')
    return { provider: 'fcm', providerToken: registration.push_token, apnsEnvironment: null };
  if ((os === '' || os === 'IOS') && (platform === '' || platform === 'IOS')) {
    return {
      provider: 'apns',
      providerToken: registration.push_token,
      apnsEnvironment: registration.dev === 1 ? 'sandbox' : 'production',
    };
  }
  return noRoute;
}

/**
 * Where a delivery over the push channel goes when the phone is not connected: the maker's
 * channel (the app may have been killed, the maker's push still wakes it), or nowhere, and
 * then the delivery waits for the phone to reconnect.
 */
export function fallbackRoute(registration: RoutableRegistration): Route | undefined {
  return makerRoute(registration);
}
