import type { Clock } from '../../clock.js';
import type { IdentityConfig } from '../../config.js';
import type { JwksCache } from '../jwks.js';
import { JwtError, verifyRs256Jwt } from '../jwt.js';
import type { GoogleInput, IdentityVerifier } from '../provider.js';
import { cleanDisplayName, rejected } from '../provider-http.js';

type GoogleConfig = NonNullable<IdentityConfig['google']>;

export const googleIssuers = ['accounts.google.com', 'https://accounts.google.com'];

/**
 * Google Sign-In: the ID token is verified against Google's key set (RS256, issuer, audience =
 * one of our client ids, expiry). The identity is `sub`; the e-mail is never used to link.
 */
export function createGoogleVerifier(deps: {
  config: GoogleConfig;
  clock: Clock;
  jwks: JwksCache;
  leewaySeconds: number;
}): IdentityVerifier<GoogleInput> {
  const { config, clock, jwks } = deps;
  return {
    async verify(input) {
      try {
        const claims = await verifyRs256Jwt(input.id_token, {
          keyFor: (kid) => jwks.keyFor(kid),
          issuers: googleIssuers,
          audiences: config.clientIds,
          now: clock.now(),
          leewaySeconds: deps.leewaySeconds,
        });
        return {
          provider: 'google',
          subject: claims.sub,
          formerSubjects: [],
          displayName: cleanDisplayName(claims.name),
          fallbackName: cleanDisplayName(claims.email),
          credentials: undefined,
        };
      } catch (error) {
        if (error instanceof JwtError) throw rejected('id_token', error.message);
        throw error;
      }
    },
  };
}
