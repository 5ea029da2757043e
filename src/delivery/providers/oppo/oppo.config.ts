import { type Static, Type } from 'typebox';
import { Value } from 'typebox/value';
import type { SettingsCheck } from '../catalogue.js';
import { checkBaseUrl, checkCa } from '../shared/settings-checks.js';

/** OPPO PUSH for phones in mainland China (reference/providers.md §5.1). */
export const OPPO_DEFAULT_URL = 'https://api.push.oppomobile.com';
/** OPPO PUSH for phones registered outside mainland China. */
export const OPPO_DEFAULT_INTL_URL = 'https://api-intl.push.oppomobile.com';

/** The reminder levels of `notify_level`: 1 bar, 2 bar + lock screen, 16 bar + lock screen + banner + vibration + ring. */
export const OPPO_NOTIFY_LEVELS = [1, 2, 16] as const;
/** A ring's default reminder level: the strong reminder (needs OPPO's approval for the category). */
export const OPPO_DEFAULT_RING_NOTIFY_LEVEL = 16;

const channelId = (description: string) =>
  Type.String({ minLength: 1, maxLength: 64, pattern: '^[\\x21-\\x7E]+$', description });
const category = (description: string) =>
  Type.String({ minLength: 2, maxLength: 32, pattern: '^[A-Z][A-Z_]*$', description });
const baseUrl = (description: string) => Type.Optional(Type.String({ maxLength: 2048, description }));

/** An app's OPPO PUSH settings, as operators send them to the admin API (field names of the OPPO console). */
export const OppoSettingsSchema = Type.Object(
  {
    app_key: Type.String({
      minLength: 1,
      maxLength: 128,
      pattern: '^[\\x21-\\x7E]+$',
      description: 'AppKey, from the OPPO open platform: the app’s push service page',
    }),
    master_secret: Type.String({
      minLength: 1,
      maxLength: 256,
      description: 'MasterSecret, from the same page: the server secret (write-only, never shown)',
    }),
    ring_channel_id: channelId(
      'the Android notification channel the app creates for rings, registered with OPPO as a private (communication) channel',
    ),
    message_channel_id: channelId('the Android notification channel the app creates for messages'),
    ring_category: category(
      'the message category of rings the app is approved for, usually `IM` (calls and chat)',
    ),
    message_category: category(
      'the message category of ordinary messages, e.g. `DEVICE_REMINDER` or `ACCOUNT`',
    ),
    notify_level: Type.Optional(
      Type.Union(
        OPPO_NOTIFY_LEVELS.map((level) => Type.Literal(level)),
        {
          description: `how a ring is shown: 1 bar, 2 bar + lock screen, 16 bar + lock screen + banner + vibration + ring (needs approval); default ${OPPO_DEFAULT_RING_NOTIFY_LEVEL}`,
        },
      ),
    ),
    url: baseUrl(`base URL for phones in mainland China (proxies, local fakes); default ${OPPO_DEFAULT_URL}`),
    intl_url: baseUrl(
      `base URL for phones outside mainland China (proxies, local fakes); default ${OPPO_DEFAULT_INTL_URL}`,
    ),
    ca: Type.Optional(
      Type.String({
        maxLength: 100_000,
        description:
          'PEM certificate(s) of a private CA trusted in addition to the public roots (TLS-intercepting proxies, local fakes)',
      }),
    ),
  },
  // Unknown fields are refused by `validateOppoSettings`, which says why (`app_secret` is not
  // needed, …) rather than the admin route's schema check, which could only name `oppo`.
  { description: 'OPPO PUSH settings (ColorOS, OnePlus, realme phones); no other fields' },
);

export type OppoSettingsInput = Static<typeof OppoSettingsSchema>;

/** What the adapter and the request builder use, checked once. */
export interface OppoSettings {
  appKey: string;
  masterSecret: string;
  ringChannelId: string;
  messageChannelId: string;
  ringCategory: string;
  messageCategory: string;
  ringNotifyLevel: number;
  /** Base URLs without a trailing slash. */
  url: string;
  intlUrl: string;
  ca: string | undefined;
}

const fields = Object.keys(OppoSettingsSchema.properties);

/** Fields operators copy from the console that the server API does not use. */
const notForTheServer: Record<string, string> = {
  app_secret:
    'app_secret is not needed: the server signs with app_key and master_secret (AppSecret belongs in the app)',
  app_id: 'app_id is not needed: the server is identified by app_key',
};

function schemaProblem(input: unknown): string | undefined {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return 'OPPO settings must be a JSON object with app_key, master_secret, channel ids and categories';
  }
  for (const key of Object.keys(input)) {
    const hint = notForTheServer[key];
    if (hint !== undefined) return hint;
    if (!fields.includes(key)) return `unknown field \`${key}\` (expected ${fields.join(', ')})`;
  }
  if (Value.Check(OppoSettingsSchema, input)) return undefined;
  for (const error of Value.Errors(OppoSettingsSchema, input)) {
    const field = error.instancePath.replace(/^\//, '');
    if (error.keyword === 'required') {
      const names = (error.params as { requiredProperties?: unknown }).requiredProperties;
      return `missing ${Array.isArray(names) ? names.join(', ') : 'fields'}`;
    }
    if (field === '' || error.keyword === 'boolean') continue;
    if (field === 'notify_level') return 'notify_level must be 1, 2 or 16';
    if (error.keyword === 'type') return `${field} must be a string`;
    if (field.endsWith('_category') && error.keyword === 'pattern') {
      return `${field} must be an OPPO category name in capitals, such as IM or DEVICE_REMINDER`;
    }
    if (field.endsWith('_channel_id') && error.keyword === 'pattern') {
      return `${field} must be the channel id as the app creates it (no spaces)`;
    }
    // Never the value: master_secret is a secret.
    return `${field} ${error.message}`;
  }
  return 'OPPO settings are malformed';
}

/**
 * Checks an app's OPPO settings: the shape, then that the URLs and the CA are usable. Returns
 * the parsed settings, or one operator-readable problem (an admin-API 400) that never
 * contains the master secret.
 */
export function validateOppoSettings(input: unknown): SettingsCheck<OppoSettings> {
  // A field set to undefined (not possible in JSON) is a field left out.
  const present =
    typeof input === 'object' && input !== null && !Array.isArray(input)
      ? Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined))
      : input;
  const problem = schemaProblem(present);
  if (problem !== undefined) return { ok: false, error: problem };
  const credentials = present as OppoSettingsInput;
  const url = checkBaseUrl(credentials.url ?? OPPO_DEFAULT_URL, 'url');
  if (typeof url !== 'string') return { ok: false, error: url.error };
  const intlUrl = checkBaseUrl(credentials.intl_url ?? OPPO_DEFAULT_INTL_URL, 'intl_url');
  if (typeof intlUrl !== 'string') return { ok: false, error: intlUrl.error };
  if (credentials.ca !== undefined) {
    const caProblem = checkCa(credentials.ca);
    if (caProblem !== undefined) return { ok: false, error: caProblem };
  }
  return {
    ok: true,
    settings: {
      appKey: credentials.app_key,
      masterSecret: credentials.master_secret,
      ringChannelId: credentials.ring_channel_id,
      messageChannelId: credentials.message_channel_id,
      ringCategory: credentials.ring_category,
      messageCategory: credentials.message_category,
      ringNotifyLevel: credentials.notify_level ?? OPPO_DEFAULT_RING_NOTIFY_LEVEL,
      url,
      intlUrl,
      ca: credentials.ca,
    },
  };
}

/** The non-secret part of the settings, for the admin API. */
export function describeOppoSettings(settings: OppoSettingsInput): Record<string, unknown> {
  return {
    app_key: settings.app_key,
    ring_channel_id: settings.ring_channel_id,
    message_channel_id: settings.message_channel_id,
    ring_category: settings.ring_category,
    message_category: settings.message_category,
    notify_level: settings.notify_level ?? OPPO_DEFAULT_RING_NOTIFY_LEVEL,
    url: settings.url ?? null,
    intl_url: settings.intl_url ?? null,
    ca: settings.ca === undefined ? null : 'configured',
  };
}
