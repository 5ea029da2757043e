import { createPrivateKey, type KeyObject } from 'node:crypto';
import { decodeJwt, SignJWT } from 'jose';
import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';
import type { IdentityConfig } from '../../config.js';
import type { JwksCache } from '../jwks.js';
import { JwtError, nonceMatches, verifyRs256Jwt } from '../jwt.js';
import type { AppleCredentials, AppleInput, IdentityVerifier } from '../provider.js';
import {
  cleanDisplayName,
  formHeaders,
  type LoginProviderHttp,
  rejected,
  requestJson,
  stringField,
} from '../provider-http.js';

type AppleConfig = NonNullable<IdentityConfig['apple']>;

/**
 * Apple changed the issuer of some tokens in 2025; both are Apple's. The set is pinned rather
 * than read from discovery metadata.
 */
export const appleIssuers = ['https://appleid.apple.com', 'https://account.apple.com'];
const clientSecretAudience = 'https://appleid.apple.com';
const clientSecretLifetimeSeconds = 300;

export interface AppleVerifier extends IdentityVerifier<AppleInput> {
  /** Revokes a refresh token kept from a code exchange; throws when Apple does not confirm. */
  revoke(credentials: AppleCredentials): Promise<void>;
  /** Whether a Sign in with Apple key is configured (codes are exchanged, tokens revocable). */
  readonly canRevoke: boolean;
}

type AppleSigning = NonNullable<AppleConfig['signing']>;

/** The client secret of Apple's token endpoints: an ES256 JWT signed with the Sign in with Apple key. */
function appleClientSecret(signing: AppleSigning, key: KeyObject, clientId: string, now: number) {
  const iat = Math.floor(now / 1000);
  return new SignJWT({
    iss: signing.teamId,
    iat,
    exp: iat + clientSecretLifetimeSeconds,
    aud: clientSecretAudience,
    sub: clientId,
  })
    .setProtectedHeader({ kid: signing.keyId, alg: 'ES256' })
    .sign(key);
}

interface CodeExchange {
  config: AppleConfig;
  http: LoginProviderHttp;
  log: Logger;
  clientSecret(clientId: string): Promise<string>;
}

/** Apple's refresh token for `code`, if Apple gives one for the same person; undefined otherwise. */
async function exchangeCode(deps: CodeExchange, code: string, clientId: string, subject: string) {
  const { config, http, log } = deps;
  const form = new URLSearchParams({
    client_id: clientId,
    client_secret: await deps.clientSecret(clientId),
    code,
    grant_type: 'authorization_code',
  });
  const answer = await requestJson(
    'apple',
    () => http.post(config.tokenUrl, formHeaders, form.toString()),
    '/auth/token',
  );
  if (answer.status !== 200) {
    log.warn(
      { provider: 'apple', status: answer.status, error: stringField(answer.body, 'error') },
      'Apple refused the authorization code; no refresh token kept',
    );
    return undefined;
  }
  const refreshToken = stringField(answer.body, 'refresh_token');
  const idToken = stringField(answer.body, 'id_token');
  // The code must be the same person's: Apple's own id_token (straight from Apple over TLS) names them.
  let codeSubject: unknown;
  try {
    codeSubject = idToken === undefined ? undefined : decodeJwt(idToken).sub;
  } catch {
    codeSubject = undefined;
  }
  if (refreshToken === undefined || codeSubject !== subject) {
    log.warn({ provider: 'apple' }, 'the authorization code is not for this identity token; ignored');
    return undefined;
  }
  return { client_id: clientId, refresh_token: refreshToken };
}

/**
 * Sign in with Apple. The identity token is verified against Apple's key set (RS256, issuer,
 * audience = a configured bundle id or Services ID, expiry, nonce). With a Sign in with Apple
 * key configured, the authorization code is exchanged at `/auth/token` and Apple's refresh
 * token kept, so that deleting the account can revoke it (App Store Review Guideline 5.1.1(v)).
 * The exchange is best effort: a code Apple refuses (expired, used by a retry) does not undo a
 * login the identity token already proved.
 */
export function createAppleVerifier(deps: {
  config: AppleConfig;
  http: LoginProviderHttp;
  clock: Clock;
  jwks: JwksCache;
  leewaySeconds: number;
  log: Logger;
}): AppleVerifier {
  const { config, http, clock, jwks, log } = deps;
  const signing = config.signing;
  const privateKey: KeyObject | undefined =
    signing === undefined ? undefined : createPrivateKey(signing.privateKey);

  const clientSecret = (clientId: string) => {
    if (signing === undefined || privateKey === undefined) throw new Error('no Sign in with Apple key');
    return appleClientSecret(signing, privateKey, clientId, clock.now());
  };
  const exchange = { config, http, log, clientSecret };

  return {
    canRevoke: signing !== undefined,

    async verify(input) {
      let claims: Awaited<ReturnType<typeof verifyRs256Jwt>>;
      try {
        claims = await verifyRs256Jwt(input.identity_token, {
          keyFor: (kid) => jwks.keyFor(kid),
          issuers: appleIssuers,
          audiences: config.audiences,
          now: clock.now(),
          leewaySeconds: deps.leewaySeconds,
        });
      } catch (error) {
        if (error instanceof JwtError) throw rejected('identity_token', error.message);
        throw error;
      }
      if (input.nonce !== undefined) {
        if (!nonceMatches(input.nonce, claims.nonce)) throw rejected('nonce', 'nonce does not match');
      } else if (
        claims.nonce !== undefined &&
        (claims.nonce_supported === true || claims.nonce_supported === 'true')
      ) {
        throw rejected('nonce', 'the identity token carries a nonce; send the raw nonce');
      }

      let credentials: AppleCredentials | undefined;
      if (input.authorization_code !== undefined && signing !== undefined) {
        try {
          credentials = await exchangeCode(exchange, input.authorization_code, claims.aud, claims.sub);
        } catch (error) {
          log.warn({ provider: 'apple', err: error }, 'code exchange failed; no refresh token kept');
        }
      }
      return {
        provider: 'apple',
        subject: claims.sub,
        formerSubjects: [],
        displayName: cleanDisplayName(input.full_name),
        fallbackName: cleanDisplayName(claims.email),
        credentials,
      };
    },

    async revoke(credentials) {
      const form = new URLSearchParams({
        client_id: credentials.client_id,
        client_secret: await clientSecret(credentials.client_id),
        token: credentials.refresh_token,
        token_type_hint: 'refresh_token',
      });
      // Apple answers 200 with an empty body.
      const answer = await http.post(config.revokeUrl, formHeaders, form.toString());
      if (answer.status !== 200) throw new Error(`Apple /auth/revoke answered HTTP ${answer.status}`);
    },
  };
}
