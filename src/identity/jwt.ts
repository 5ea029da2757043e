import { createHash, timingSafeEqual } from 'node:crypto';
import { type CryptoKey, errors, type JWSHeaderParameters, type JWTPayload, jwtVerify } from 'jose';

/** Why a JWT was refused; the caller answers 401 whatever the reason, and logs it. */
export class JwtError extends Error {
  override name = 'JwtError';
}

export interface JwtVerifyOptions {
  /** The verification key for a `kid`: only keys we already trust (a JWKS we fetched). */
  keyFor(kid: string): Promise<CryptoKey | undefined>;
  issuers: readonly string[];
  audiences: readonly string[];
  /** Unix ms. */
  now: number;
  leewaySeconds: number;
}

export interface VerifiedClaims extends Record<string, unknown> {
  sub: string;
  aud: string;
}

/** jose's refusal, in the words the logs have always used. */
function refusal(error: InstanceType<typeof errors.JOSEError>): JwtError {
  if (error instanceof errors.JWTExpired) return new JwtError('expired');
  if (error instanceof errors.JWSSignatureVerificationFailed) return new JwtError('bad signature');
  if (error instanceof errors.JOSEAlgNotAllowed) return new JwtError('algorithm is not allowed');
  if (error instanceof errors.JWTClaimValidationFailed) {
    const claim: Record<string, string> = {
      iss: 'wrong issuer',
      aud: 'wrong audience',
      exp: 'no expiry',
      nbf: 'not yet valid',
      sub: 'no subject',
    };
    return new JwtError(claim[error.claim] ?? `bad ${error.claim} claim`);
  }
  return new JwtError(error.message);
}

async function trustedKey(header: JWSHeaderParameters, options: JwtVerifyOptions): Promise<CryptoKey> {
  const kid = header.kid;
  if (typeof kid !== 'string' || kid === '' || kid.length > 256) throw new JwtError('no kid');
  const key = await options.keyFor(kid);
  if (key === undefined) throw new JwtError('unknown kid');
  return key;
}

/**
 * Verifies an RS256 ID token (Apple, Google) with jose: the algorithm is pinned, never taken
 * from the token (so `none` and HMAC-with-the-public-key confusion are refused), the key is
 * chosen by `kid` among trusted keys only, then `iss`, `aud`, `exp`, `nbf`, `iat` and `sub` are
 * checked. Returns the claims with the audience that matched. A key set that cannot be
 * fetched is not a refusal: `keyFor`'s error goes through as is.
 */
export async function verifyRs256Jwt(token: string, options: JwtVerifyOptions): Promise<VerifiedClaims> {
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, (header) => trustedKey(header, options), {
      algorithms: ['RS256'],
      issuer: [...options.issuers],
      audience: [...options.audiences],
      currentDate: new Date(options.now),
      clockTolerance: options.leewaySeconds,
      requiredClaims: ['exp', 'sub'],
    }));
  } catch (error) {
    if (error instanceof errors.JOSEError) throw refusal(error);
    throw error;
  }
  // What jose leaves to us: an `iat` in the future, a usable subject, the audience that matched.
  if (payload.iat !== undefined && payload.iat - options.leewaySeconds > options.now / 1000) {
    throw new JwtError('issued in the future');
  }
  if (typeof payload.sub !== 'string' || payload.sub === '' || payload.sub.length > 255) {
    throw new JwtError('no subject');
  }
  const audiences = typeof payload.aud === 'string' ? [payload.aud] : (payload.aud ?? []);
  const audience = audiences.find((aud) => options.audiences.includes(aud));
  if (audience === undefined) throw new JwtError('wrong audience');
  return { ...payload, sub: payload.sub, aud: audience };
}

/**
 * The native-app nonce convention (Apple, and Supabase's reading of it): the app hands
 * `sha256(raw)` in hex to the provider and sends `raw` to us.
 */
export function nonceMatches(rawNonce: string, claim: unknown): boolean {
  if (typeof claim !== 'string') return false;
  const expected = Buffer.from(createHash('sha256').update(rawNonce).digest('hex'));
  const actual = Buffer.from(claim);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
