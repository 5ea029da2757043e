import { type Static, Type } from 'typebox';
import { Value } from 'typebox/value';
import type { SettingsCheck } from '../catalogue.js';
import { checkBaseUrl, checkCa, checkUrl } from '../shared/settings-checks.js';

/**
 * The two host families Honor's API is reached at (reference/providers.md §5.3): the
 * `hihonor.com` hosts of Honor's developer guide, the default, and the `honor.com` hosts other
 * clients use. Which one an app is served by is shown in the Honor developer console.
 */
export const HONOR_HOSTS = {
  hihonor: {
    url: 'https://push-api.cloud.hihonor.com',
    authUrl: 'https://iam.developer.hihonor.com/auth/realms/developer/protocol/openid-connect/token',
  },
  honor: {
    url: 'https://push-api.cloud.honor.com',
    authUrl: 'https://iam.developer.honor.com/auth/token',
  },
} as const;

const importance = (description: string) =>
  Type.Union([Type.Literal('NORMAL'), Type.Literal('LOW')], { description });

/** An app's Honor Push settings as operators send them to the admin API (names from Honor's console). */
export const HonorSettingsSchema = Type.Object(
  {
    app_id: Type.String({
      minLength: 1,
      maxLength: 64,
      pattern: '^[0-9A-Za-z._-]+$',
      description: 'the APP ID of the app in the Honor developer console (digits), as a string',
    }),
    client_id: Type.String({
      minLength: 1,
      maxLength: 256,
      description: 'the Client ID of the app’s OAuth credentials in the Honor developer console',
    }),
    client_secret: Type.String({
      minLength: 1,
      maxLength: 1024,
      description: 'the Client Secret that goes with client_id (write-only)',
    }),
    ring_channel_id: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 128,
        description: 'the app’s notification channel for rings (its call channel), sent as `channelId`',
      }),
    ),
    message_channel_id: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 128,
        description: 'the app’s notification channel for messages, sent as `channelId`',
      }),
    ),
    ring_importance: Type.Optional(
      importance(
        '`importance` of rings: NORMAL (service & communication, needs Honor’s approval; default) or LOW (marketing)',
      ),
    ),
    message_importance: Type.Optional(
      importance('`importance` of messages: NORMAL (default) or LOW (marketing, capped per device and day)'),
    ),
    ring_category: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 32,
        pattern: '^[A-Z][A-Z_]*$',
        description:
          '`android.category` of rings, e.g. `VOIP`, only once Honor has granted the app that category',
      }),
    ),
    url: Type.Optional(
      Type.String({
        maxLength: 2048,
        description: `base URL of the send API (other host family, proxies, local fakes); default ${HONOR_HOSTS.hihonor.url}`,
      }),
    ),
    auth_url: Type.Optional(
      Type.String({
        maxLength: 2048,
        description: `the OAuth token endpoint, an https URL; default ${HONOR_HOSTS.hihonor.authUrl}`,
      }),
    ),
    ca: Type.Optional(
      Type.String({
        maxLength: 100_000,
        description:
          'PEM certificate(s) of a private CA trusted in addition to the public roots (TLS-intercepting proxies, local fakes)',
      }),
    ),
  },
  { additionalProperties: false, description: 'Honor Push settings' },
);

export type HonorSettingsInput = Static<typeof HonorSettingsSchema>;
export type HonorImportance = 'LOW' | 'NORMAL';

/** Everything the adapter needs, checked once. */
export interface HonorSettings {
  appId: string;
  clientId: string;
  clientSecret: string;
  ringChannelId: string | undefined;
  messageChannelId: string | undefined;
  ringImportance: HonorImportance;
  messageImportance: HonorImportance;
  ringCategory: string | undefined;
  /** Base URL of the send API, without a trailing slash. */
  baseUrl: string;
  /** The OAuth token endpoint. */
  authUrl: string;
  ca: string | undefined;
}

const fields = Object.keys(HonorSettingsSchema.properties);

/** The first problem of the shape, for an operator; names fields, never repeats a value. */
function shapeProblem(input: unknown): string | undefined {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return 'Honor settings must be a JSON object with app_id, client_id and client_secret';
  }
  const unknown = Object.keys(input).filter((key) => !fields.includes(key));
  if (unknown.length > 0) {
    return `unknown field ${unknown.map((key) => `\`${key}\``).join(', ')} (expected ${fields.join(', ')})`;
  }
  const missing = ['app_id', 'client_id', 'client_secret'].filter((key) => !(key in input));
  if (missing.length > 0) return `missing ${missing.join(', ')} (from the Honor developer console)`;
  if (Value.Check(HonorSettingsSchema, input)) return undefined;
  for (const error of Value.Errors(HonorSettingsSchema, input)) {
    const field = error.instancePath.replace(/^\//, '');
    if (field === 'app_id' && error.keyword === 'pattern') {
      return 'app_id must be the APP ID from the Honor console (digits, letters, . _ -)';
    }
    if (field.endsWith('_importance')) return `${field} must be "NORMAL" or "LOW"`;
    if (field === 'ring_category' && error.keyword === 'pattern') {
      return 'ring_category must be an upper-case category name such as VOIP';
    }
    if (error.keyword === 'anyOf' || error.keyword === 'boolean') continue;
    return `${field} ${error.message}`;
  }
  return 'Honor settings are malformed';
}

/**
 * Checks an app's Honor settings: the shape, the URLs (the token endpoint must be https: the
 * client secret travels there), the CA. Returns them parsed, with the defaults filled in, or
 * one operator-readable problem (an admin-API 400) that never contains the secret.
 */
export function validateHonorSettings(input: unknown): SettingsCheck<HonorSettings> {
  const problem = shapeProblem(input);
  if (problem !== undefined) return { ok: false, error: problem };
  const given = input as HonorSettingsInput;

  const baseUrl = checkBaseUrl(given.url ?? HONOR_HOSTS.hihonor.url, 'url');
  if (typeof baseUrl !== 'string') return { ok: false, error: baseUrl.error };
  const authUrl = given.auth_url ?? HONOR_HOSTS.hihonor.authUrl;
  const checked = checkUrl(authUrl, 'auth_url', ['https:']);
  if (typeof checked === 'string') return { ok: false, error: checked };
  if (given.ca !== undefined) {
    const caProblem = checkCa(given.ca);
    if (caProblem !== undefined) return { ok: false, error: caProblem };
  }
  return {
    ok: true,
    settings: {
      appId: given.app_id,
      clientId: given.client_id,
      clientSecret: given.client_secret,
      ringChannelId: given.ring_channel_id,
      messageChannelId: given.message_channel_id,
      ringImportance: given.ring_importance ?? 'NORMAL',
      messageImportance: given.message_importance ?? 'NORMAL',
      ringCategory: given.ring_category,
      baseUrl,
      authUrl,
      ca: given.ca,
    },
  };
}

/** The non-secret part of the settings, for GET. */
export function describeHonorSettings(given: HonorSettingsInput): Record<string, unknown> {
  return {
    app_id: given.app_id,
    client_id: given.client_id,
    ring_channel_id: given.ring_channel_id ?? null,
    message_channel_id: given.message_channel_id ?? null,
    ring_importance: given.ring_importance ?? 'NORMAL',
    message_importance: given.message_importance ?? 'NORMAL',
    ring_category: given.ring_category ?? null,
    url: given.url ?? null,
    auth_url: given.auth_url ?? null,
    ca: given.ca === undefined ? null : 'configured',
  };
}
