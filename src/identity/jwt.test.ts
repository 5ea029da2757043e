import { type CryptoKey, importJWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { newSigningKey, OidcKeys } from '../../test/fakes/oidc-keys.js';
import { JwtError, type JwtVerifyOptions, verifyRs256Jwt } from './jwt.js';

const keys = new OidcKeys(['k1']);
const now = Date.UTC(2026, 10, 30, 12, 0, 0);
const seconds = now / 1000;
const claims = {
  iss: 'https://issuer.example',
  aud: 'app',
  sub: 'user-1',
  iat: seconds - 10,
  exp: seconds + 600,
};

function options(overrides: Partial<JwtVerifyOptions> = {}): JwtVerifyOptions {
  return {
    keyFor: async (kid) => {
      const key = keys.published.find((each) => each.kid === kid);
      if (key === undefined) return undefined;
      return (await importJWK(key.publicKey.export({ format: 'jwk' }), 'RS256')) as CryptoKey;
    },
    issuers: ['https://issuer.example'],
    audiences: ['other', 'app'],
    now,
    leewaySeconds: 60,
    ...overrides,
  };
}

async function refusal(token: string, overrides: Partial<JwtVerifyOptions> = {}): Promise<string> {
  const error = await verifyRs256Jwt(token, options(overrides)).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(JwtError);
  return (error as JwtError).message;
}

describe('verifyRs256Jwt', () => {
  it('answers the claims and the audience that matched', async () => {
    const token = keys.sign({ ...claims, aud: ['nobody', 'app'], email: 'a@example.com' });
    expect(await verifyRs256Jwt(token, options())).toMatchObject({
      sub: 'user-1',
      aud: 'app',
      email: 'a@example.com',
    });
  });

  it('accepts an expired token within the leeway', async () => {
    expect((await verifyRs256Jwt(keys.sign({ ...claims, exp: seconds - 30 }), options())).sub).toBe('user-1');
  });

  it.each([
    ['expired', { exp: seconds - 120 }],
    ['wrong issuer', { iss: 'https://evil.example' }],
    ['wrong audience', { aud: 'attacker' }],
    ['not yet valid', { nbf: seconds + 600 }],
    ['issued in the future', { iat: seconds + 600, exp: seconds + 1200 }],
    ['no subject', { sub: '' }],
    ['no subject', { sub: undefined }],
    ['no expiry', { exp: undefined }],
  ])('refuses: %s', async (reason, changed) => {
    expect(await refusal(keys.sign({ ...claims, ...changed }))).toBe(reason);
  });

  it('refuses what does not come from a trusted key', async () => {
    expect(await refusal(keys.sign(claims, { key: newSigningKey('k1') }))).toBe('bad signature');
    expect(await refusal(keys.sign(claims, { key: newSigningKey('k9') }))).toBe('unknown kid');
    expect(await refusal(keys.sign(claims, { kid: null }))).toBe('no kid');
    expect(await refusal(keys.unsigned(claims))).toBe('algorithm is not allowed');
    expect(await refusal(keys.hmacWithPublicKey(claims))).toBe('algorithm is not allowed');
    expect(await refusal(keys.sign(claims, { extraHeader: { crit: ['exp'], exp: 1 } }))).not.toBe('');
    expect(await refusal('not-a-jwt')).not.toBe('');
  });

  it('lets an error of the key source through: the provider is unavailable, not the token wrong', async () => {
    const down = new Error('key set unreachable');
    const keyFor = () => Promise.reject(down);
    await expect(verifyRs256Jwt(keys.sign(claims), options({ keyFor }))).rejects.toBe(down);
  });
});
