/** All four login-provider fakes at once, and the environment that points Bellhop at them. */
import { FakeApple } from './apple-server.js';
import { FakeFacebook } from './facebook-server.js';
import { FakeGoogle } from './google-server.js';
import { FakeWeixin } from './weixin-server.js';

export interface LoginProviderFakes {
  weixin: FakeWeixin;
  facebook: FakeFacebook;
  apple: FakeApple;
  google: FakeGoogle;
  /** Every provider configured against the fakes, with a short timeout. */
  environment: Record<string, string>;
  close(): Promise<void>;
}

export async function startLoginProviderFakes(now: () => number): Promise<LoginProviderFakes> {
  const [weixin, facebook, apple, google] = await Promise.all([
    FakeWeixin.start(now),
    FakeFacebook.start(),
    FakeApple.start(now),
    FakeGoogle.start(now),
  ]);
  const environment = {
    LOGIN_PROVIDER_TIMEOUT_MS: '500',
    WEIXIN_APP_ID: weixin.appId,
    WEIXIN_APP_SECRET: weixin.appSecret,
    WEIXIN_API_URL: weixin.url,
    FACEBOOK_APP_ID: facebook.appId,
    FACEBOOK_APP_SECRET: facebook.appSecret,
    FACEBOOK_GRAPH_URL: facebook.url,
    APPLE_AUDIENCES: `${apple.bundleId}, ${apple.servicesId}`,
    APPLE_TEAM_ID: apple.teamId,
    APPLE_KEY_ID: apple.keyId,
    APPLE_PRIVATE_KEY: apple.privateKeyPem.replace(/\n/g, '\\n'),
    APPLE_JWKS_URL: `${apple.url}/auth/keys`,
    APPLE_TOKEN_URL: `${apple.url}/auth/token`,
    APPLE_REVOKE_URL: `${apple.url}/auth/revoke`,
    GOOGLE_CLIENT_IDS: `${google.clientId},${google.androidClientId}`,
    GOOGLE_JWKS_URL: google.jwksUrl,
  };
  return {
    weixin,
    facebook,
    apple,
    google,
    environment,
    close: async () => {
      await Promise.all([weixin.close(), facebook.close(), apple.close(), google.close()]);
    },
  };
}
