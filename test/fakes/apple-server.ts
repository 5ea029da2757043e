/**
 * A fake Sign in with Apple: the key set (`/auth/keys`, keys the test generates), the code
 * exchange (`/auth/token`) and revocation (`/auth/revoke`). Both POSTs check the ES256
 * client-secret JWT as Apple does: signature under the team's key, `iss` = team id, `sub` =
 * client_id, `aud` = https://appleid.apple.com, not expired. Revocations are recorded.
 */
import { generateKeyPairSync, type KeyObject, randomBytes, verify } from 'node:crypto';
import { type FakeReply, HttpFake } from './http-fake.js';
import { OidcKeys, type SignOptions } from './oidc-keys.js';

export const APPLE_ISSUER = 'https://appleid.apple.com';

const decode = (part: string | undefined): Record<string, unknown> => {
  try {
    return JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
};

export class FakeApple {
  readonly keys = new OidcKeys(['apple-key-1']);
  readonly teamId = 'TEAMID1234';
  readonly keyId = 'KEYID12345';
  readonly bundleId = 'com.example.doorbell';
  readonly servicesId = 'com.example.doorbell.web';
  /** The .p8 key of the team (PKCS#8 PEM), as APPLE_PRIVATE_KEY. */
  readonly privateKeyPem: string;
  private readonly publicKey: KeyObject;
  private readonly codes = new Map<string, { sub: string; clientId: string; used: boolean }>();
  readonly refreshTokens = new Map<string, { sub: string; clientId: string; revoked: boolean }>();
  /** Every accepted revocation: `{client_id, token, token_type_hint}`. */
  readonly revocations: Array<Record<string, string>> = [];
  /** Why the last client secret was refused, if one was. */
  lastRejection: string | undefined;

  private constructor(
    readonly http: HttpFake,
    private readonly now: () => number,
  ) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKeyPem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    this.publicKey = publicKey;
  }

  static async start(now: () => number): Promise<FakeApple> {
    let fake: FakeApple | undefined;
    const http = await HttpFake.start((request) => {
      if (fake === undefined) return { status: 503 };
      if (request.path === '/auth/keys') return { json: fake.keys.jwks() };
      if (request.method === 'POST' && request.path === '/auth/token') return fake.token(request.form);
      if (request.method === 'POST' && request.path === '/auth/revoke') return fake.revoke(request.form);
      return { status: 404, text: '' };
    });
    fake = new FakeApple(http, now);
    return fake;
  }

  get url(): string {
    return this.http.url;
  }

  /** An identity token as the Apple ID credential carries it. */
  identityToken(claims: { sub: string } & Record<string, unknown>, options: SignOptions = {}): string {
    const iat = Math.floor(this.now() / 1000);
    return this.keys.sign(
      { iss: APPLE_ISSUER, aud: this.bundleId, iat, exp: iat + 600, email_verified: 'true', ...claims },
      options,
    );
  }

  issueCode(sub: string, clientId = this.bundleId): string {
    const code = `c${randomBytes(16).toString('hex')}.0.abcd.${randomBytes(8).toString('hex')}`;
    this.codes.set(code, { sub, clientId, used: false });
    return code;
  }

  private clientSecretProblem(form: URLSearchParams): string | undefined {
    const secret = form.get('client_secret') ?? '';
    const [header, payload, signature] = secret.split('.');
    const head = decode(header);
    const claims = decode(payload);
    if (head.alg !== 'ES256' || head.kid !== this.keyId) return 'header';
    const signed = verify(
      'sha256',
      Buffer.from(`${header}.${payload}`),
      { key: this.publicKey, dsaEncoding: 'ieee-p1363' },
      Buffer.from(signature ?? '', 'base64url'),
    );
    if (!signed) return 'signature';
    if (claims.iss !== this.teamId) return 'iss';
    if (claims.sub !== form.get('client_id')) return 'sub';
    if (claims.aud !== 'https://appleid.apple.com') return 'aud';
    const now = this.now() / 1000;
    if (typeof claims.exp !== 'number' || claims.exp <= now) return 'exp';
    if (typeof claims.iat !== 'number' || claims.iat > now + 60) return 'iat';
    return undefined;
  }

  private token(form: URLSearchParams): FakeReply {
    const problem = this.clientSecretProblem(form);
    this.lastRejection = problem;
    if (problem !== undefined) return { status: 400, json: { error: 'invalid_client' } };
    if (form.get('grant_type') !== 'authorization_code')
      return { status: 400, json: { error: 'unsupported_grant_type' } };
    const entry = this.codes.get(form.get('code') ?? '');
    if (entry === undefined || entry.used || entry.clientId !== form.get('client_id')) {
      return {
        status: 400,
        json: { error: 'invalid_grant', error_description: 'The code has expired or has been revoked.' },
      };
    }
    entry.used = true;
    const refreshToken = `r${randomBytes(16).toString('hex')}.0.abcd.${randomBytes(8).toString('hex')}`;
    this.refreshTokens.set(refreshToken, { sub: entry.sub, clientId: entry.clientId, revoked: false });
    return {
      json: {
        access_token: `a${randomBytes(16).toString('hex')}`,
        token_type: 'Bearer',
        expires_in: 3600,
        refresh_token: refreshToken,
        id_token: this.identityToken({ sub: entry.sub, aud: entry.clientId }),
      },
    };
  }

  private revoke(form: URLSearchParams): FakeReply {
    const problem = this.clientSecretProblem(form);
    this.lastRejection = problem;
    if (problem !== undefined) return { status: 400, json: { error: 'invalid_client' } };
    const token = this.refreshTokens.get(form.get('token') ?? '');
    if (token !== undefined) token.revoked = true;
    this.revocations.push(Object.fromEntries(form));
    return { status: 200, text: '' };
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
