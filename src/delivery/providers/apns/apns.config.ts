import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import type { SecureClientSessionOptions } from 'node:http2';
import { createSecureContext } from 'node:tls';
import { type Static, Type } from 'typebox';
import { Value } from 'typebox/value';

/**
 * An app's APNs credentials, exactly as an operator sends them (reference/providers.md §1.2):
 * token auth (a `.p8` signing key) or certificate auth (a `.p12`), each with optional hosts
 * and a private CA (for a proxy in front of Apple, or a local fake).
 */

export const DEFAULT_APNS_PRODUCTION_URL = 'https://api.push.apple.com';
export const DEFAULT_APNS_SANDBOX_URL = 'https://api.sandbox.push.apple.com';

const httpsUrl = (description: string) =>
  Type.Optional(Type.String({ minLength: 9, maxLength: 2048, pattern: '^https://[^\\s]+$', description }));

const endpointFields = {
  production_url: httpsUrl(
    `APNs host for production tokens (\`dev\` = 0), as an https origin; default ${DEFAULT_APNS_PRODUCTION_URL}`,
  ),
  sandbox_url: httpsUrl(
    `APNs host for sandbox tokens (\`dev\` = 1), as an https origin; default ${DEFAULT_APNS_SANDBOX_URL}`,
  ),
  ca: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 65_536,
      description:
        'PEM certificate(s) of a private CA to trust for the APNs hosts, instead of the public roots ' +
        '(for a proxy in front of Apple, or a local fake)',
    }),
  ),
};

export const ApnsTokenCredentialsSchema = Type.Object(
  {
    team_id: Type.String({
      pattern: '^[A-Z0-9]{10}$',
      description: 'the 10-character Team ID of the Apple developer account (the JWT `iss`)',
    }),
    key_id: Type.String({
      pattern: '^[A-Z0-9]{10}$',
      description: 'the 10-character Key ID of the APNs signing key (the JWT `kid`)',
    }),
    key: Type.String({
      minLength: 1,
      maxLength: 16_384,
      description:
        'the contents of the `AuthKey_<KeyID>.p8` file: the PKCS#8 PEM of the EC P-256 signing key',
    }),
    ...endpointFields,
  },
  { additionalProperties: false, description: 'token-based authentication (a `.p8` signing key)' },
);

export const ApnsCertificateCredentialsSchema = Type.Object(
  {
    certificate: Type.String({
      minLength: 4,
      maxLength: 65_536,
      pattern: '^[A-Za-z0-9+/=\\s]+$',
      description: 'the Apple Push Services certificate with its private key: a `.p12` file, base64-encoded',
    }),
    passphrase: Type.Optional(
      Type.String({ maxLength: 1024, description: 'the passphrase of the `.p12`, when it has one' }),
    ),
    ...endpointFields,
  },
  {
    additionalProperties: false,
    description: 'certificate-based authentication (a `.p12` client certificate)',
  },
);

export const ApnsCredentialsSchema = Type.Union(
  [ApnsTokenCredentialsSchema, ApnsCertificateCredentialsSchema],
  {
    description:
      'APNs credentials of an app: token auth `{team_id, key_id, key}` or certificate auth ' +
      '`{certificate, passphrase?}`, each with optional `production_url`, `sandbox_url` and `ca`',
  },
);

export type ApnsTokenCredentials = Static<typeof ApnsTokenCredentialsSchema>;
export type ApnsCertificateCredentials = Static<typeof ApnsCertificateCredentialsSchema>;
export type ApnsCredentials = ApnsTokenCredentials | ApnsCertificateCredentials;

export function isTokenCredentials(credentials: ApnsCredentials): credentials is ApnsTokenCredentials {
  return 'key' in credentials;
}

export interface ApnsEndpoints {
  productionUrl: string;
  sandboxUrl: string;
}

/** The two hosts of the credentials, defaults applied, without a trailing slash. */
export function apnsEndpoints(
  credentials: Pick<ApnsCredentials, 'production_url' | 'sandbox_url'>,
): ApnsEndpoints {
  return {
    productionUrl: (credentials.production_url ?? DEFAULT_APNS_PRODUCTION_URL).replace(/\/+$/, ''),
    sandboxUrl: (credentials.sandbox_url ?? DEFAULT_APNS_SANDBOX_URL).replace(/\/+$/, ''),
  };
}

/** The TLS side of a connection to APNs: the extra CA, and the client certificate of certificate auth. */
export function apnsTlsOptions(credentials: ApnsCredentials): SecureClientSessionOptions {
  return {
    settings: { enablePush: false },
    maxSessionMemory: 64,
    ...(credentials.ca !== undefined ? { ca: credentials.ca } : {}),
    ...(isTokenCredentials(credentials)
      ? {}
      : {
          pfx: Buffer.from(credentials.certificate.replace(/\s+/g, ''), 'base64'),
          passphrase: credentials.passphrase ?? '',
        }),
  };
}

/**
 * The signing key of token auth. Accepts the `.p8` as Apple ships it; also the base64 body
 * alone (the PEM armour lost in a copy and paste).
 */
export function parseApnsSigningKey(key: string): KeyObject {
  const trimmed = key.trim();
  const pem = trimmed.includes('-----BEGIN')
    ? trimmed
    : `-----BEGIN PRIVATE KEY-----\n${trimmed.replace(/\s+/g, '')}\n-----END PRIVATE KEY-----`;
  const keyObject = createPrivateKey({ key: pem, format: 'pem' });
  if (keyObject.asymmetricKeyType !== 'ec' || keyObject.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    const kind =
      keyObject.asymmetricKeyType === 'ec'
        ? `an EC key on ${keyObject.asymmetricKeyDetails?.namedCurve ?? 'an unknown curve'}`
        : `an ${(keyObject.asymmetricKeyType ?? 'unknown').toUpperCase()} key`;
    throw new Error(`is ${kind}, not an EC P-256 key`);
  }
  return keyObject;
}

export type ApnsCredentialsCheck = { ok: true; value: ApnsCredentials } | { ok: false; error: string };

function schemaProblem(
  schema: typeof ApnsTokenCredentialsSchema | typeof ApnsCertificateCredentialsSchema,
  input: unknown,
): string {
  const errors = Value.Errors(schema, input);
  const unknown = errors.find((error) => error.keyword === 'additionalProperties');
  if (unknown !== undefined) {
    const names = (unknown.params as { additionalProperties?: unknown }).additionalProperties;
    const list = Array.isArray(names) ? names.map(String) : [];
    return `unknown field${list.length === 1 ? '' : 's'} ${list.join(', ')}`;
  }
  const missing = errors.find((error) => error.keyword === 'required');
  if (missing !== undefined) {
    const names = (missing.params as { requiredProperties?: unknown }).requiredProperties;
    return `missing ${Array.isArray(names) ? names.map(String).join(', ') : 'fields'}`;
  }
  for (const error of errors) {
    const field = error.instancePath.replace(/^\//, '');
    if (field === '' || error.keyword === 'boolean') continue;
    if (error.keyword === 'type') return `${field} must be a string`;
    if (error.keyword === 'pattern' && (field === 'team_id' || field === 'key_id')) {
      return `${field} must be the 10 upper-case letters and digits Apple shows`;
    }
    if (error.keyword === 'pattern' && field === 'certificate')
      return 'certificate must be the .p12 file in base64';
    if (error.keyword === 'pattern' && field.endsWith('_url')) return `${field} must be an https:// URL`;
    return `${field}: ${error.message}`;
  }
  return 'invalid APNs credentials';
}

function urlProblem(field: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `${field} is not a URL`;
  }
  if (url.protocol !== 'https:') return `${field} must be an https:// URL`;
  if (
    url.pathname !== '/' ||
    url.search !== '' ||
    url.hash !== '' ||
    url.username !== '' ||
    url.password !== ''
  ) {
    return `${field} must be a bare origin such as https://api.push.apple.com (no path, query or user)`;
  }
  return undefined;
}

function caProblem(ca: string | undefined): string | undefined {
  if (ca === undefined) return undefined;
  const blocks = ca.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  if (blocks === null) return 'ca must be one or more PEM certificates (-----BEGIN CERTIFICATE-----)';
  for (const [index, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch (error) {
      return `ca: certificate ${index + 1} does not parse (${(error as Error).message})`;
    }
  }
  return undefined;
}

function p12Problem(certificate: string, passphrase: string | undefined): string | undefined {
  const compact = certificate.replace(/\s+/g, '');
  if (compact.length === 0 || compact.length % 4 === 1 || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) {
    return 'certificate must be the .p12 file encoded in base64';
  }
  const pfx = Buffer.from(compact, 'base64');
  if (pfx.length === 0) return 'certificate is empty';
  try {
    createSecureContext({ pfx, passphrase: passphrase ?? '' });
  } catch (error) {
    const message = (error as Error).message;
    if (/mac verify failure|invalid password/i.test(message)) {
      return passphrase === undefined
        ? 'certificate: the .p12 is protected by a passphrase; send it as passphrase'
        : 'certificate: wrong passphrase for the .p12';
    }
    if (/unsupported/i.test(message)) {
      return (
        'certificate: the .p12 uses legacy encryption this server cannot read; re-export it, e.g. ' +
        '`openssl pkcs12 -in old.p12 -legacy -nodes | openssl pkcs12 -export -out new.p12`'
      );
    }
    return `certificate is not a readable .p12 (${message})`;
  }
  return undefined;
}

/**
 * Checks credentials as an operator sent them: the shape (schema), then that the `.p8` is an
 * EC P-256 private key, or that the `.p12` is base64 and opens with the passphrase, and that
 * the URLs and CA parse. The error is a sentence fit for a 400 answer; it never echoes secrets.
 */
export function validateApnsCredentials(input: unknown): ApnsCredentialsCheck {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, error: 'APNs credentials must be an object' };
  }
  const isToken = 'key' in input || 'team_id' in input || 'key_id' in input;
  const isCertificate = 'certificate' in input || 'passphrase' in input;
  if (isToken && isCertificate) {
    return {
      ok: false,
      error:
        'APNs credentials are either token auth {team_id, key_id, key} or certificate auth {certificate}, not both',
    };
  }
  if (!isToken && !isCertificate) {
    return {
      ok: false,
      error:
        'APNs credentials need token auth {team_id, key_id, key} or certificate auth {certificate, passphrase?}',
    };
  }
  const schema = isToken ? ApnsTokenCredentialsSchema : ApnsCertificateCredentialsSchema;
  if (!Value.Check(schema, input)) return { ok: false, error: schemaProblem(schema, input) };
  const value = input as ApnsCredentials;
  const problem =
    urlProblem('production_url', value.production_url) ??
    urlProblem('sandbox_url', value.sandbox_url) ??
    caProblem(value.ca) ??
    (isTokenCredentials(value) ? keyProblem(value.key) : p12Problem(value.certificate, value.passphrase));
  return problem === undefined ? { ok: true, value } : { ok: false, error: problem };
}

function keyProblem(key: string): string | undefined {
  try {
    parseApnsSigningKey(key);
    return undefined;
  } catch (error) {
    const message = (error as Error).message;
    if (message.startsWith('is ')) return `key ${message}: APNs signing keys (.p8) are EC P-256`;
    return 'key is not a PEM private key: send the whole contents of the AuthKey_<KeyID>.p8 file';
  }
}
