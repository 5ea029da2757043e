/** How the fake APNs checks a provider token (an ES256 JWT) or a client certificate, as Apple does. */
import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import { apnsFixtures, TEST_APNS_KEY_ID, TEST_APNS_TEAM_ID } from './apns-fixtures.js';
import type { FakeApnsKey, ReceivedApnsRequest, TokenCheck } from './apns-types.js';
import { decodeSegment } from './fake-values.js';

const HOUR = 3_600_000;

export type SigningKeys = Map<string, { teamId: string; key: KeyObject }>;

/** The keys APNs knows, by key id: those given, else the fixture key. */
export function signingKeys(given: FakeApnsKey[] | undefined): SigningKeys {
  const keys: SigningKeys = new Map();
  for (const key of given ?? [
    { teamId: TEST_APNS_TEAM_ID, keyId: TEST_APNS_KEY_ID, publicKey: apnsFixtures.signingPublicKey },
  ]) {
    keys.set(key.keyId, {
      teamId: key.teamId,
      key:
        typeof key.publicKey === 'string' ? createPublicKey(key.publicKey) : createPublicKey(key.publicKey),
    });
  }
  return keys;
}

/** Checks a JWT's signature and claims, once per distinct JWT. */
export function jwtChecker(keys: SigningKeys): (jwt: string) => TokenCheck {
  const verified = new Map<string, TokenCheck>();
  return function checkJwt(jwt: string): TokenCheck {
    const cached = verified.get(jwt);
    if (cached !== undefined) return cached;
    const parts = jwt.split('.');
    const header = decodeSegment(parts[0]);
    const claims = decodeSegment(parts[1]);
    let result: TokenCheck = { ok: false, reason: 'InvalidProviderToken' };
    if (parts.length === 3 && header !== undefined && claims !== undefined && header.alg === 'ES256') {
      const kid = typeof header.kid === 'string' ? header.kid : '';
      const known = keys.get(kid);
      const iat = claims.iat;
      if (
        known !== undefined &&
        claims.iss === known.teamId &&
        typeof iat === 'number' &&
        Number.isInteger(iat)
      ) {
        const good = verify(
          'sha256',
          Buffer.from(`${parts[0]}.${parts[1]}`),
          { key: known.key, dsaEncoding: 'ieee-p1363' },
          Buffer.from(parts[2] ?? '', 'base64url'),
        );
        if (good) result = { ok: true, kid, iat };
      }
    }
    verified.set(jwt, result);
    return result;
  };
}

/** The auth verdict: undefined = accepted, else [status, reason]. */
export function authenticate(
  request: ReceivedApnsRequest,
  certificateTrusted: boolean,
  checkJwt: (jwt: string) => TokenCheck,
  clock: { now(): number },
): [number, string] | undefined {
  const jwt = request.jwt;
  if (jwt === undefined) {
    if (request.clientCertificate === undefined) return [403, 'MissingProviderToken'];
    return certificateTrusted ? undefined : [403, 'BadCertificate'];
  }
  const check = checkJwt(jwt);
  if (!check.ok) return [403, check.reason];
  if (clock.now() - check.iat * 1000 > HOUR) return [403, 'ExpiredProviderToken'];
  return undefined;
}
