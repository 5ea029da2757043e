import { type Static, Type } from 'typebox';
import { Value } from 'typebox/value';
import type { SettingsCheck } from '../catalogue.js';
import { checkBaseUrl, checkCa, checkUrl } from '../shared/settings-checks.js';

/** vivo PUSH's JSON API (reference/providers.md §5.2); `url` overrides it (proxies, local fakes). */
export const VIVO_DEFAULT_BASE_URL = 'https://api-push.vivo.com.cn';

/**
 * vivo's secondary classes ("二级分类"). Operation (marketing) classes go out with
 * `classification: 0`, are capped per phone and day and only sent 07:00–23:00; every other
 * class is a system message (`classification: 1`). A class that disagrees with the
 * classification is refused (10097), an unknown one too (10096).
 */
export const VIVO_OPERATION_CATEGORIES: readonly string[] = ['NEWS', 'CONTENT', 'MARKETING', 'SOCIAL'];
export const VIVO_SYSTEM_CATEGORIES: readonly string[] = [
  'IM',
  'ACCOUNT',
  'TODO',
  'DEVICE_REMINDER',
  'ORDER',
  'SUBSCRIPTION',
];

const category = (description: string) =>
  Type.String({ minLength: 2, maxLength: 32, pattern: '^[A-Z][A-Z_]*$', description });

/** An app's vivo PUSH settings, as operators send them to the admin API (`vivo`). */
export const VivoSettingsSchema = Type.Object(
  {
    app_id: Type.String({
      minLength: 1,
      maxLength: 20,
      pattern: '^[0-9]+$',
      description:
        'the App ID of the app on the vivo developer console (push service page), e.g. `105123456`',
    }),
    app_key: Type.String({
      minLength: 1,
      maxLength: 128,
      description: 'the AppKey shown beside the App ID (signed into the auth request)',
    }),
    app_secret: Type.String({
      minLength: 1,
      maxLength: 256,
      description: 'the AppSecret shown beside the App ID (write-only; signs the auth request)',
    }),
    ring_category: category(
      'the approved system-message class rings are sent with (`category`), e.g. `IM` for calls',
    ),
    message_category: category(
      'the class ordinary messages are sent with (`category`), e.g. `DEVICE_REMINDER`; an operation class (NEWS, CONTENT, MARKETING, SOCIAL) is sent as an operation message',
    ),
    url: Type.Optional(
      Type.String({
        maxLength: 2048,
        description: `base URL of the vivo PUSH API (proxies, local fakes); default ${VIVO_DEFAULT_BASE_URL}`,
      }),
    ),
    auth_url: Type.Optional(
      Type.String({
        maxLength: 2048,
        description: 'the auth endpoint, an http(s) URL; default `<url>/message/auth`',
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
  { additionalProperties: false, description: 'vivo PUSH settings of an app' },
);

export type VivoSettingsInput = Static<typeof VivoSettingsSchema>;

/** Everything the adapter needs, checked once. */
export interface VivoSettings {
  appId: string;
  appKey: string;
  appSecret: string;
  ringCategory: string;
  messageCategory: string;
  /** Base URL of the API, without a trailing slash. */
  baseUrl: string;
  authUrl: string;
  ca: string | undefined;
}

const fields = Object.keys(VivoSettingsSchema.properties);

/** The first schema problem, worded for an operator; never echoes a value (the secret). */
function schemaProblem(input: unknown): string | undefined {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return 'vivo settings must be a JSON object with app_id, app_key, app_secret, ring_category and message_category';
  }
  const unknown = Object.keys(input).filter((key) => !fields.includes(key));
  if (unknown.length > 0) {
    return `unknown field ${unknown.map((key) => `\`${key}\``).join(', ')} (expected ${fields.join(', ')})`;
  }
  if (Value.Check(VivoSettingsSchema, input)) return undefined;
  const errors = Value.Errors(VivoSettingsSchema, input);
  const required = errors.find((error) => error.keyword === 'required');
  if (required !== undefined) {
    const missing = (required.params as { requiredProperties?: unknown }).requiredProperties;
    return `missing ${Array.isArray(missing) ? missing.join(', ') : 'fields'}`;
  }
  for (const error of errors) {
    if (error.keyword === 'boolean') continue;
    const field = error.instancePath.replace(/^\//, '');
    if (error.keyword === 'type') return `${field} must be a string`;
    if (field === 'app_id') return 'app_id must be the numeric App ID from the vivo console, as a string';
    if (field.endsWith('_category')) {
      return `${field} must be a vivo message class in capitals, such as IM or DEVICE_REMINDER`;
    }
    if (error.keyword === 'minLength') return `${field} must not be empty`;
    return `${field} ${error.message}`;
  }
  return 'vivo settings are malformed';
}

/** Whether vivo sends the class as a system message (`classification: 1`). */
export function isSystemCategory(value: string): boolean {
  return !VIVO_OPERATION_CATEGORIES.includes(value);
}

/**
 * Checks an app's vivo settings: the shape, a ring class that rings (a system class), usable
 * URLs and CA. Returns the parsed settings or one operator-readable problem (an admin-API 400)
 * that never contains the secret.
 */
export function validateVivoSettings(input: unknown): SettingsCheck<VivoSettings> {
  const problem = schemaProblem(input);
  if (problem !== undefined) return { ok: false, error: problem };
  const value = input as VivoSettingsInput;
  if (value.app_key.trim() !== value.app_key || value.app_secret.trim() !== value.app_secret) {
    return { ok: false, error: 'app_key and app_secret must not start or end with spaces' };
  }
  if (!isSystemCategory(value.ring_category)) {
    return {
      ok: false,
      error: `ring_category ${value.ring_category} is an operation class: vivo holds those back (07:00–23:00, a few a day); use the approved system class, e.g. IM`,
    };
  }
  const base = checkBaseUrl(value.url ?? VIVO_DEFAULT_BASE_URL, 'url');
  if (typeof base !== 'string') return { ok: false, error: base.error };
  let authUrl = `${base}/message/auth`;
  if (value.auth_url !== undefined) {
    const url = checkUrl(value.auth_url, 'auth_url', ['https:', 'http:']);
    if (typeof url === 'string') return { ok: false, error: url };
    authUrl = url.href;
  }
  if (value.ca !== undefined) {
    const caProblem = checkCa(value.ca);
    if (caProblem !== undefined) return { ok: false, error: caProblem };
  }
  return {
    ok: true,
    settings: {
      appId: value.app_id,
      appKey: value.app_key,
      appSecret: value.app_secret,
      ringCategory: value.ring_category,
      messageCategory: value.message_category,
      baseUrl: base,
      authUrl,
      ca: value.ca,
    },
  };
}

/**
 * The non-secret part of the settings, for GET: never the secret, and the AppKey only by its
 * first characters (vivo's console lists it among the app's keys).
 */
export function describeVivoSettings(value: VivoSettingsInput): Record<string, unknown> {
  return {
    app_id: value.app_id,
    app_key: value.app_key.length > 8 ? `${value.app_key.slice(0, 4)}…` : '…',
    ring_category: value.ring_category,
    message_category: value.message_category,
    url: value.url ?? null,
    auth_url: value.auth_url ?? null,
    ca: value.ca === undefined ? null : 'configured',
  };
}
