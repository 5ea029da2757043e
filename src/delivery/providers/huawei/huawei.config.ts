import { type Static, Type } from 'typebox';
import { Value } from 'typebox/value';
import type { SettingsCheck } from '../catalogue.js';
import { checkBaseUrl, checkCa, checkUrl } from '../shared/settings-checks.js';

/** Where Push Kit's send API lives; `url` overrides it (proxies, local fakes). */
export const HUAWEI_DEFAULT_URL = 'https://push-api.cloud.huawei.com';
/** Huawei's OAuth 2.0 token endpoint; `auth_url` overrides it. */
export const HUAWEI_DEFAULT_AUTH_URL = 'https://oauth-login.cloud.huawei.com/oauth2/v3/token';

/** `android.notification.importance` values. */
export const HUAWEI_IMPORTANCES = ['LOW', 'NORMAL', 'HIGH'] as const;

/** `android.category` values a message may carry once self-classification is approved. */
export const HUAWEI_CATEGORIES = [
  'IM',
  'VOIP',
  'SUBSCRIPTION',
  'TRAVEL',
  'HEALTH',
  'WORK',
  'ACCOUNT',
  'EXPRESS',
  'FINANCE',
  'DEVICE_REMINDER',
  'MAIL',
  'MARKETING',
] as const;

const text = (maxLength: number, description: string) =>
  Type.String({ minLength: 1, maxLength, description });

/** An app's Huawei Push Kit settings, as operators send them to the admin API (`huawei`). */
export const HuaweiSettingsSchema = Type.Object(
  {
    app_id: text(
      32,
      'AppGallery Connect › Project settings › App information: App ID (digits), the `{app_id}` of the send URL',
    ),
    client_id: Type.Optional(
      text(64, 'OAuth 2.0 client ID; for an AppGallery Connect app the App ID (the default)'),
    ),
    client_secret: text(256, 'the OAuth 2.0 client secret (for an AppGallery Connect app: the App Secret)'),
    message_channel_id: Type.Optional(
      text(128, 'the app’s Android notification channel for messages (`android.notification.channel_id`)'),
    ),
    ring_channel_id: Type.Optional(
      text(128, 'the app’s call notification channel, handed to the app in a ring’s data as `channel_id`'),
    ),
    importance: Type.Optional(
      Type.String({
        description: 'messages’ `android.notification.importance`: LOW, NORMAL or HIGH (needs approval)',
      }),
    ),
    category: Type.Optional(
      Type.String({
        description: 'messages’ `android.category` after self-classification approval, e.g. DEVICE_REMINDER',
      }),
    ),
    url: Type.Optional(
      Type.String({
        maxLength: 2048,
        description: `base URL of the send API (proxies, local fakes); default ${HUAWEI_DEFAULT_URL}`,
      }),
    ),
    auth_url: Type.Optional(
      Type.String({
        maxLength: 2048,
        description: `the OAuth 2.0 token endpoint; default ${HUAWEI_DEFAULT_AUTH_URL}`,
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
  { additionalProperties: false, description: 'Huawei Push Kit (HMS Core) settings' },
);

export type HuaweiSettingsInput = Static<typeof HuaweiSettingsSchema>;

/** Everything the adapter needs, checked once. */
export interface HuaweiSettings {
  appId: string;
  clientId: string;
  clientSecret: string;
  messageChannelId: string | undefined;
  ringChannelId: string | undefined;
  importance: (typeof HUAWEI_IMPORTANCES)[number] | undefined;
  category: (typeof HUAWEI_CATEGORIES)[number] | undefined;
  /** Base URL of the send API, without a trailing slash. */
  baseUrl: string;
  authUrl: string;
  ca: string | undefined;
}

const fields = Object.keys(HuaweiSettingsSchema.properties);

/** The first shape problem, worded for an operator; never echoes a value (the secret). */
function shapeProblem(input: unknown): string | undefined {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return 'Huawei settings must be a JSON object with app_id and client_secret';
  }
  const unknown = Object.keys(input).filter((key) => !fields.includes(key));
  if (unknown.length > 0) {
    return `unknown field ${unknown.map((key) => `\`${key}\``).join(', ')} (expected ${fields.join(', ')})`;
  }
  if (Value.Check(HuaweiSettingsSchema, input)) return undefined;
  for (const error of Value.Errors(HuaweiSettingsSchema, input)) {
    const field = error.instancePath.replace(/^\//, '');
    if (error.keyword === 'required') {
      const missing = (error.params as { requiredProperties?: unknown }).requiredProperties;
      return `missing ${Array.isArray(missing) ? missing.join(', ') : 'a field'}`;
    }
    if (error.keyword === 'type') return `${field} must be a string`;
    if (error.keyword === 'minLength') return `${field} must not be empty`;
    if (error.keyword === 'maxLength') return `${field} is too long`;
    return `${field} ${error.message}`;
  }
  return 'Huawei settings are malformed';
}

function oneOf<T extends string>(value: string | undefined, allowed: readonly T[]): value is T | undefined {
  return value === undefined || (allowed as readonly string[]).includes(value);
}

/**
 * Checks an app's Huawei settings: ids are digits, the URLs usable, the CA parses, importance
 * and category are Huawei's words. Returns the parsed settings or one operator-readable problem
 * (an admin-API 400) that never contains the secret.
 */
export function validateHuaweiSettings(input: unknown): SettingsCheck<HuaweiSettings> {
  const problem = shapeProblem(input);
  if (problem !== undefined) return { ok: false, error: problem };
  const settings = input as HuaweiSettingsInput;
  if (!/^\d+$/.test(settings.app_id)) {
    return { ok: false, error: 'app_id must be the App ID from AppGallery Connect (digits only)' };
  }
  if (settings.client_id !== undefined && !/^\d+$/.test(settings.client_id)) {
    return { ok: false, error: 'client_id must be an OAuth 2.0 client ID (digits only)' };
  }
  if (/\s/.test(settings.client_secret)) {
    return { ok: false, error: 'client_secret must not contain spaces or line breaks' };
  }
  if (!oneOf(settings.importance, HUAWEI_IMPORTANCES)) {
    return { ok: false, error: `importance must be one of ${HUAWEI_IMPORTANCES.join(', ')}` };
  }
  if (!oneOf(settings.category, HUAWEI_CATEGORIES)) {
    return { ok: false, error: `category must be one of ${HUAWEI_CATEGORIES.join(', ')}` };
  }
  const baseUrl = checkBaseUrl(settings.url ?? HUAWEI_DEFAULT_URL, 'url');
  if (typeof baseUrl !== 'string') return { ok: false, error: baseUrl.error };
  const authUrl = checkUrl(settings.auth_url ?? HUAWEI_DEFAULT_AUTH_URL, 'auth_url', ['https:', 'http:']);
  if (typeof authUrl === 'string') return { ok: false, error: authUrl };
  if (settings.ca !== undefined) {
    const caProblem = checkCa(settings.ca);
    if (caProblem !== undefined) return { ok: false, error: caProblem };
  }
  return {
    ok: true,
    settings: {
      appId: settings.app_id,
      clientId: settings.client_id ?? settings.app_id,
      clientSecret: settings.client_secret,
      messageChannelId: settings.message_channel_id,
      ringChannelId: settings.ring_channel_id,
      importance: settings.importance,
      category: settings.category,
      baseUrl,
      authUrl: authUrl.href,
      ca: settings.ca,
    },
  };
}

/** The non-secret part of the settings, for GET. */
export function describeHuaweiSettings(input: HuaweiSettingsInput): Record<string, unknown> {
  return {
    app_id: input.app_id,
    client_id: input.client_id ?? input.app_id,
    message_channel_id: input.message_channel_id ?? null,
    ring_channel_id: input.ring_channel_id ?? null,
    importance: input.importance ?? null,
    category: input.category ?? null,
    url: input.url ?? HUAWEI_DEFAULT_URL,
    auth_url: input.auth_url ?? HUAWEI_DEFAULT_AUTH_URL,
    ca: input.ca === undefined ? null : 'configured',
  };
}
