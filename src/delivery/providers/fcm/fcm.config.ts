import { createPrivateKey, type KeyObject } from 'node:crypto';
import { type Static, Type } from 'typebox';
import { Value } from 'typebox/value';
import type { SettingsCheck } from '../catalogue.js';
import { checkBaseUrl, checkCa, checkUrl } from '../shared/settings-checks.js';

/** Where FCM HTTP v1 lives; `url` in the settings overrides it (proxies, local fakes). */
export const FCM_DEFAULT_BASE_URL = 'https://fcm.googleapis.com';
/** Google's OAuth2 token endpoint, used when the service account carries no `token_uri`. */
export const GOOGLE_DEFAULT_TOKEN_URI = 'https://oauth2.googleapis.com/token';

/**
 * The service-account key file as downloaded from the Google Cloud / Firebase console. Only
 * the fields below are read; the others (`client_id`, `auth_uri`, `universe_domain`, …) are
 * kept as they are.
 */
export const FcmServiceAccountSchema = Type.Object(
  {
    type: Type.Optional(
      Type.Literal('service_account', { description: 'always `service_account` in a key file' }),
    ),
    project_id: Type.String({
      minLength: 1,
      maxLength: 100,
      pattern: '^[A-Za-z0-9][A-Za-z0-9.:_-]*$',
      description: 'the Firebase / Google Cloud project the app belongs to, e.g. `my-app-1a2b3`',
    }),
    private_key_id: Type.Optional(
      Type.String({
        maxLength: 200,
        description: 'the id of the key, sent as `kid` in the OAuth2 assertion',
      }),
    ),
    private_key: Type.String({
      minLength: 1,
      maxLength: 20_000,
      description: 'the RSA private key, PEM (`-----BEGIN PRIVATE KEY-----…`)',
    }),
    client_email: Type.String({
      minLength: 3,
      maxLength: 320,
      description: 'the service account, e.g. `firebase-adminsdk-xyz@my-app.iam.gserviceaccount.com`',
    }),
    token_uri: Type.Optional(
      Type.String({
        maxLength: 2048,
        description: `the OAuth2 token endpoint, an https URL; default ${GOOGLE_DEFAULT_TOKEN_URI}`,
      }),
    ),
  },
  {
    additionalProperties: true,
    description: 'the service-account JSON key file (the whole object, not a string)',
  },
);

/** An app's FCM settings, as operators send them to the admin API. */
export const FcmSettingsSchema = Type.Object(
  {
    service_account: FcmServiceAccountSchema,
    url: Type.Optional(
      Type.String({
        maxLength: 2048,
        description: `base URL of the FCM send API (proxies, local fakes); default ${FCM_DEFAULT_BASE_URL}`,
      }),
    ),
    ca: Type.Optional(
      Type.String({
        maxLength: 100_000,
        description:
          'PEM certificate(s) of a private CA trusted in addition to the public roots (TLS-intercepting proxies, local fakes)',
      }),
    ),
    channel_id: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 128,
        description:
          'the app’s Android notification channel for messages (`android.notification.channel_id`)',
      }),
    ),
  },
  { additionalProperties: false, description: 'Firebase Cloud Messaging (HTTP v1) credentials' },
);

export type FcmServiceAccount = Static<typeof FcmServiceAccountSchema>;
export type FcmSettingsInput = Static<typeof FcmSettingsSchema>;

/** Everything the adapter needs, checked and parsed once. */
export interface FcmSettings {
  projectId: string;
  clientEmail: string;
  privateKey: KeyObject;
  privateKeyId: string | undefined;
  /** The OAuth2 token endpoint (https). */
  tokenUri: string;
  /** Base URL of the send API, without a trailing slash. */
  baseUrl: string;
  /** Extra trusted CA certificates (PEM), if any. */
  ca: string | undefined;
}

const topLevelFields = Object.keys(FcmSettingsSchema.properties);

function pathOf(instancePath: string): string {
  return instancePath.replace(/^\//, '').replaceAll('/', '.') || 'credentials';
}

/** The first schema problem, worded for an operator; never echoes a value (the key is secret). */
function schemaProblem(input: unknown): string | undefined {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return 'FCM credentials must be a JSON object with a `service_account` field';
  }
  const record = input as Record<string, unknown>;
  const unknown = Object.keys(record).filter((key) => !topLevelFields.includes(key));
  if (unknown.length > 0) {
    return `unknown field ${unknown.map((key) => `\`${key}\``).join(', ')} (expected ${topLevelFields.join(', ')})`;
  }
  const account = record.service_account;
  if (account === undefined) return 'service_account is required: the service-account JSON key file';
  if (typeof account === 'string') {
    return 'service_account must be the service-account JSON object itself (the key file’s contents), not a string';
  }
  if (Value.Check(FcmSettingsSchema, input)) return undefined;
  for (const error of Value.Errors(FcmSettingsSchema, input)) {
    if (error.keyword === 'boolean' || error.keyword === 'additionalProperties') continue;
    const path = pathOf(error.instancePath);
    if (error.keyword === 'required') {
      const missing = (error.params as { requiredProperties?: unknown }).requiredProperties;
      const names = Array.isArray(missing) ? missing.join(', ') : 'a field';
      return `${path === 'credentials' ? '' : `${path}: `}missing ${names}`;
    }
    if (path === 'service_account.type') return 'service_account.type must be "service_account"';
    if (path === 'service_account.project_id' && error.keyword === 'pattern') {
      return 'service_account.project_id must be a project id (letters, digits, and - . : _)';
    }
    return `${path} ${error.message}`;
  }
  return 'FCM credentials are malformed';
}

/**
 * Checks an app's FCM settings beyond their shape: the key parses as RSA, the URLs are
 * usable, the CA parses. Returns the parsed settings (`token_uri` filled in, `url` without a
 * trailing slash), or one operator-readable problem (an admin-API 400). Messages never contain
 * the key.
 */
export function validateFcmSettings(input: unknown): SettingsCheck<FcmSettings> {
  const problem = schemaProblem(input);
  if (problem !== undefined) return { ok: false, error: problem };
  const given = input as FcmSettingsInput;
  const account = given.service_account;

  if (!/^[^@\s]+@[^@\s]+$/.test(account.client_email)) {
    return { ok: false, error: 'service_account.client_email must be an e-mail address' };
  }

  // A key pasted with its newlines escaped once too often still reads.
  const pem =
    !account.private_key.includes('\n') && account.private_key.includes('\\n')
      ? account.private_key.replaceAll('\\n', '\n')
      : account.private_key;
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    return {
      ok: false,
      error: 'service_account.private_key is not a readable PEM private key (-----BEGIN PRIVATE KEY-----…)',
    };
  }
  if (privateKey.asymmetricKeyType !== 'rsa') {
    return {
      ok: false,
      error: `service_account.private_key must be an RSA key (got ${privateKey.asymmetricKeyType ?? 'unknown'})`,
    };
  }

  // Kept as written: it is also the assertion's audience, which Google compares as a string.
  const tokenUri = account.token_uri ?? GOOGLE_DEFAULT_TOKEN_URI;
  const tokenUrl = checkUrl(tokenUri, 'service_account.token_uri', ['https:']);
  if (typeof tokenUrl === 'string') return { ok: false, error: tokenUrl };

  const base = checkBaseUrl(given.url ?? FCM_DEFAULT_BASE_URL, 'url');
  if (typeof base !== 'string') return { ok: false, error: base.error };

  if (given.ca !== undefined) {
    const caProblem = checkCa(given.ca);
    if (caProblem !== undefined) return { ok: false, error: caProblem };
  }

  return {
    ok: true,
    settings: {
      projectId: account.project_id,
      clientEmail: account.client_email,
      privateKey,
      privateKeyId: account.private_key_id === '' ? undefined : account.private_key_id,
      tokenUri,
      baseUrl: base,
      ca: given.ca,
    },
  };
}

/** The non-secret part of the settings, for GET: the account by its e-mail, never its key. */
export function describeFcmSettings(input: FcmSettingsInput): Record<string, unknown> {
  const { service_account: account, url, ca, channel_id } = input;
  return {
    project_id: account.project_id,
    client_email: account.client_email,
    private_key_id: account.private_key_id ?? null,
    token_uri: account.token_uri ?? null,
    url: url ?? null,
    ca: ca === undefined ? null : 'configured',
    channel_id: channel_id ?? null,
  };
}
