import { createHash, type KeyObject, sign, timingSafeEqual, verify } from 'node:crypto';

/** Why a JWT was refused; the caller answers 401 whatever the reason, and logs it. */
export class JwtError extends Error {
  override name = 'JwtError';
}

export interface DecodedJwt {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signingInput: string;
  signature: Buffer;
}

const base64urlPart = /^[A-Za-z0-9_-]+$/;

function jsonObject(part: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new JwtError(`malformed ${what}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new JwtError(`malformed ${what}`);
  }
  return value as Record<string, unknown>;
}

/** Splits a compact JWS without trusting any of it. */
export function decodeJwt(token: string): DecodedJwt {
  const parts = token.split('.');
  if (parts.length !== 3) throw new JwtError('not a compact JWT');
  const [header = '', payload = '', signature = ''] = parts;
  if (!base64urlPart.test(header) || !base64urlPart.test(payload) || !base64urlPart.test(signature)) {
    throw new JwtError('not a compact JWT');
  }
  return {
    header: jsonObject(header, 'header'),
    payload: jsonObject(payload, 'payload'),
    signingInput: `${header}.${payload}`,
    signature: Buffer.from(signature, 'base64url'),
  };
}

export interface JwtVerifyOptions {
  /** The verification key for a `kid`: only keys we already trust (a JWKS we fetched). */
  keyFor(kid: string): Promise<KeyObject | undefined>;
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

/**
 * Verifies an RS256 ID token (Apple, Google): the algorithm is pinned, never taken from the
 * token (so `none` and HMAC-with-the-public-key confusion are refused), the key is chosen by
 * `kid` among trusted keys only, then `iss`, `aud`, `exp`, `nbf`, `iat` and `sub` are checked.
 * Returns the claims with the audience that matched.
 */
export async function verifyRs256Jwt(token: string, options: JwtVerifyOptions): Promise<VerifiedClaims> {
  const { header, payload, signingInput, signature } = decodeJwt(token);
  if (header.alg !== 'RS256') throw new JwtError(`algorithm ${String(header.alg)} is not allowed`);
  if (header.crit !== undefined) throw new JwtError('critical header parameters are not supported');
  const kid = header.kid;
  if (typeof kid !== 'string' || kid === '' || kid.length > 256) throw new JwtError('no kid');
  const key = await options.keyFor(kid);
  if (key === undefined) throw new JwtError('unknown kid');
  if (key.asymmetricKeyType !== 'rsa') throw new JwtError('the key is not an RSA key');
  if (!verify('sha256', Buffer.from(signingInput), key, signature)) throw new JwtError('bad signature');

  if (typeof payload.iss !== 'string' || !options.issuers.includes(payload.iss)) {
    throw new JwtError('wrong issuer');
  }
  const audiences = typeof payload.aud === 'string' ? [payload.aud] : payload.aud;
  const audience = Array.isArray(audiences)
    ? audiences.find((aud): aud is string => typeof aud === 'string' && options.audiences.includes(aud))
    : undefined;
  if (audience === undefined) throw new JwtError('wrong audience');
  const now = options.now / 1000;
  const leeway = options.leewaySeconds;
  if (typeof payload.exp !== 'number' || !Number.isFinite(payload.exp)) throw new JwtError('no expiry');
  if (payload.exp + leeway <= now) throw new JwtError('expired');
  if (payload.nbf !== undefined && (typeof payload.nbf !== 'number' || payload.nbf - leeway > now)) {
    throw new JwtError('not yet valid');
  }
  if (payload.iat !== undefined && (typeof payload.iat !== 'number' || payload.iat - leeway > now)) {
    throw new JwtError('issued in the future');
  }
  if (typeof payload.sub !== 'string' || payload.sub === '' || payload.sub.length > 255) {
    throw new JwtError('no subject');
  }
  return { ...payload, sub: payload.sub, aud: audience };
}

/** A compact ES256 JWT (Apple's client secret): raw r‖s signature, as JOSE wants it. */
export function signEs256Jwt(
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
  privateKey: KeyObject,
): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const signingInput = `${encode({ ...header, alg: 'ES256' })}.${encode(claims)}`;
  const signature = sign('sha256', Buffer.from(signingInput), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return `${signingInput}.${signature.toString('base64url')}`;
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
