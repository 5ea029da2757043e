/**
 * RSA signing keys of a fake OpenID provider (Apple, Google): their JWKS, and ID tokens signed
 * with them, or deliberately wrong (another key, `alg: none`, HS256 with the public key …).
 */
import { createHmac, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export function newSigningKey(kid: string): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid, privateKey, publicKey };
}

export interface SignOptions {
  /** Sign with this key (default: the first published key), under its kid unless `kid` is given. */
  key?: SigningKey;
  /** `null` leaves `kid` out of the header. */
  kid?: string | null;
  alg?: string;
  extraHeader?: Record<string, unknown>;
}

export class OidcKeys {
  /** The keys the JWKS publishes. */
  published: SigningKey[];

  constructor(kids: string[]) {
    this.published = kids.map(newSigningKey);
  }

  jwks(): { keys: Array<Record<string, unknown>> } {
    return {
      keys: this.published.map(({ kid, publicKey }) => ({
        ...publicKey.export({ format: 'jwk' }),
        kid,
        use: 'sig',
        alg: 'RS256',
      })),
    };
  }

  /** A compact RS256 JWT. */
  sign(claims: Record<string, unknown>, options: SignOptions = {}): string {
    const key = options.key ?? this.published[0];
    if (key === undefined) throw new Error('no signing key');
    const kid = options.kid === undefined ? key.kid : options.kid;
    const header = {
      alg: options.alg ?? 'RS256',
      typ: 'JWT',
      ...(kid === null ? {} : { kid }),
      ...options.extraHeader,
    };
    const input = `${encode(header)}.${encode(claims)}`;
    return `${input}.${sign('sha256', Buffer.from(input), key.privateKey).toString('base64url')}`;
  }

  /** `alg: none`, no signature. */
  unsigned(claims: Record<string, unknown>): string {
    const kid = this.published[0]?.kid;
    return `${encode({ alg: 'none', typ: 'JWT', kid })}.${encode(claims)}.`;
  }

  /** HS256 keyed with the published key's PEM: the classic algorithm-confusion forgery. */
  hmacWithPublicKey(claims: Record<string, unknown>): string {
    const key = this.published[0];
    if (key === undefined) throw new Error('no signing key');
    const input = `${encode({ alg: 'HS256', typ: 'JWT', kid: key.kid })}.${encode(claims)}`;
    const pem = key.publicKey.export({ format: 'pem', type: 'spki' });
    return `${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`;
  }
}
