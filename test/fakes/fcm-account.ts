/**
 * Google's OAuth2 token endpoint as the fake FCM plays it: the test service account
 * (test/fixtures/fcm/) and the checks of a JWT-bearer assertion, RS256 signature included.
 */
import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { RawAnswer } from './https-fake.js';

const fixtures = new URL('../fixtures/fcm/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, fixtures), 'utf8');

export interface FakeServiceAccount {
  type: 'service_account';
  project_id: string;
  private_key_id: string;
  private_key: string;
  client_email: string;
  client_id: string;
  auth_uri: string;
  token_uri: string;
  auth_provider_x509_cert_url: string;
  client_x509_cert_url: string;
  universe_domain: string;
  [field: string]: unknown;
}

const SERVICE_ACCOUNT = JSON.parse(fixture('service-account.json')) as FakeServiceAccount;
const SERVICE_ACCOUNT_PUBLIC_KEY: KeyObject = createPublicKey(SERVICE_ACCOUNT.private_key);

/** The test service account (fixture), its `token_uri` pointing where asked (a fake's `tokenUrl`). */
export function fakeServiceAccount(tokenUri: string): FakeServiceAccount {
  return { ...SERVICE_ACCOUNT, token_uri: tokenUri };
}

const FCM_SCOPES = [
  'https://www.googleapis.com/auth/firebase.messaging',
  'https://www.googleapis.com/auth/cloud-platform',
];

function oauthError(error: string, description: string): RawAnswer {
  return { status: 400, body: JSON.stringify({ error, error_description: description }) };
}

const shortLivedText =
  'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.';

/** What an assertion must match: the account that signs it and the endpoint it is meant for. */
export interface AssertionTarget {
  serviceAccount: FakeServiceAccount;
  tokenUrl: string;
}

/** Why Google would refuse this token request, or undefined when it would issue a token. */
export function checkAssertion(
  target: AssertionTarget,
  grantType: string | null,
  assertion: string,
  entry: { header: Record<string, unknown> | undefined; claims: Record<string, unknown> | undefined },
  now: number,
): RawAnswer | undefined {
  if (grantType !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
    return oauthError('unsupported_grant_type', `Invalid grant_type: ${grantType ?? ''}`);
  }
  const parts = assertion.split('.');
  const { header, claims } = entry;
  if (parts.length !== 3 || header === undefined || claims === undefined) {
    return oauthError('invalid_grant', 'Invalid JWT: could not decode the assertion.');
  }
  if (header.alg !== 'RS256') return oauthError('invalid_grant', 'Invalid JWT Signature.');
  if (header.kid !== undefined && header.kid !== target.serviceAccount.private_key_id) {
    return oauthError('invalid_grant', 'Invalid JWT Signature.');
  }
  const signed = verify(
    'sha256',
    Buffer.from(`${parts[0]}.${parts[1]}`),
    SERVICE_ACCOUNT_PUBLIC_KEY,
    Buffer.from(parts[2] ?? '', 'base64url'),
  );
  if (!signed) return oauthError('invalid_grant', 'Invalid JWT Signature.');
  if (claims.iss !== target.serviceAccount.client_email) {
    return oauthError('invalid_grant', 'Invalid grant: account not found');
  }
  if (claims.aud !== target.tokenUrl) {
    return oauthError(
      'invalid_grant',
      `Invalid JWT: Failed audience check. The right audience is ${target.tokenUrl}`,
    );
  }
  const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ') : [];
  if (!scopes.some((scope) => FCM_SCOPES.includes(scope))) {
    return oauthError('invalid_scope', 'Invalid OAuth scope or ID token audience provided.');
  }
  const { iat, exp } = claims;
  const nowSeconds = Math.floor(now / 1000);
  if (
    typeof iat !== 'number' ||
    typeof exp !== 'number' ||
    exp - iat > 3600 ||
    exp <= iat ||
    exp <= nowSeconds ||
    iat > nowSeconds + 300
  ) {
    return oauthError('invalid_grant', shortLivedText);
  }
  return undefined;
}
