import { createHmac } from 'node:crypto';
import type { IdentityConfig } from '../../config.js';
import type { FacebookInput, IdentityVerifier } from '../provider.js';
import {
  cleanDisplayName,
  jsonHeaders,
  type LoginProviderHttp,
  rejected,
  requestJson,
  stringField,
} from '../provider-http.js';

type FacebookConfig = NonNullable<IdentityConfig['facebook']>;

/**
 * Facebook Login: the user access token is inspected with the Graph API's `debug_token`
 * (under our app token: it must be valid and issued to our app), then `/me` names the user.
 * The identity is the app-scoped user id. Graph API errors (HTTP 4xx, `{error: {code: 190 …}}`)
 * refuse the token: 401.
 */
export function createFacebookVerifier(deps: {
  config: FacebookConfig;
  http: LoginProviderHttp;
}): IdentityVerifier<FacebookInput> {
  const { config, http } = deps;
  const appToken = `${config.appId}|${config.appSecret}`;

  return {
    async verify({ access_token: token }) {
      const debugUrl = `${config.graphUrl}/debug_token?${new URLSearchParams({ input_token: token, access_token: appToken })}`;
      const debug = await requestJson('facebook', () => http.get(debugUrl, jsonHeaders), 'debug_token');
      const data = debug.body.data;
      if (debug.status !== 200 || typeof data !== 'object' || data === null) {
        throw rejected('access_token', `debug_token answered HTTP ${debug.status}`);
      }
      const info = data as Record<string, unknown>;
      if (info.is_valid !== true) throw rejected('access_token', 'debug_token: not valid');
      if (String(info.app_id) !== config.appId) throw rejected('access_token', 'issued to another app');
      const userId = stringField(info, 'user_id');
      if (userId === undefined || !/^[0-9]{1,32}$/.test(userId)) {
        throw rejected('access_token', 'debug_token: no user id');
      }

      // appsecret_proof ties the call to our app secret, as Facebook recommends for servers.
      const proof = createHmac('sha256', config.appSecret).update(token).digest('hex');
      const meUrl = `${config.graphUrl}/me?${new URLSearchParams({ fields: 'id,name', access_token: token, appsecret_proof: proof })}`;
      const me = await requestJson('facebook', () => http.get(meUrl, jsonHeaders), '/me');
      if (me.status !== 200) throw rejected('access_token', `/me answered HTTP ${me.status}`);
      if (me.body.id !== userId) throw rejected('access_token', '/me names another user');
      return {
        provider: 'facebook',
        subject: userId,
        formerSubjects: [],
        displayName: cleanDisplayName(me.body.name),
        fallbackName: null,
        credentials: undefined,
      };
    },
  };
}
