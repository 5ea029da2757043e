import { type Static, Type } from 'typebox';
import type { SettingsCheck } from '../catalogue.js';
import { checkBaseUrl, checkCa } from '../shared/settings-checks.js';

/**
 * Xiaomi MiPush serves each part of the world from its own host, and a phone's regId only
 * works on the host of the region it registered in (reference/providers.md §4.1).
 */
export const XIAOMI_REGION_URLS = {
  cn: 'https://api.xmpush.xiaomi.com',
  global: 'https://api.xmpush.global.xiaomi.com',
  russia: 'https://ru-api.xmpush.global.xiaomi.com',
  india: 'https://idmb-api.xmpush.global.xiaomi.com',
  europe: 'https://fr-api.xmpush.global.xiaomi.com',
  singapore: 'https://sgp-api.xmpush.global.xiaomi.com',
} as const;

export type XiaomiRegion = keyof typeof XIAOMI_REGION_URLS;
export type XiaomiRegionUrls = Readonly<Record<XiaomiRegion, string>>;

export const XIAOMI_REGIONS = Object.keys(XIAOMI_REGION_URLS) as XiaomiRegion[];
export const XIAOMI_DEFAULT_REGION: XiaomiRegion = 'cn';

/**
 * An app's MiPush settings as operators send them to the admin API. The schema checks types
 * only: `validateXiaomiSettings` words every other problem for an operator.
 */
export const XiaomiSettingsSchema = Type.Object(
  {
    app_secret: Type.String({
      description: 'the AppSecret of the app in the Xiaomi push console (sent as `Authorization: key=…`)',
    }),
    package_name: Type.String({
      description: 'the Android package name the app is registered with, e.g. `com.example.doorbell`',
    }),
    ring_channel_id: Type.String({
      description:
        'the id of the approved private-message (私信) channel rings go on: it must ring and show a banner',
    }),
    message_channel_id: Type.String({
      description: 'the id of the approved private-message (私信) channel ordinary messages go on',
    }),
    region: Type.Optional(
      Type.String({
        description: `where the app's phones registered: ${XIAOMI_REGIONS.join(', ')}; default ${XIAOMI_DEFAULT_REGION}`,
      }),
    ),
    app_id: Type.Optional(
      Type.String({ description: 'the AppID from the Xiaomi console; only shown back, never sent' }),
    ),
    url: Type.Optional(
      Type.String({
        description: 'base URL of the MiPush API, replacing the region’s host (proxies, local fakes)',
      }),
    ),
    ca: Type.Optional(
      Type.String({
        description:
          'PEM certificate(s) of a private CA trusted in addition to the public roots (TLS-intercepting proxies, local fakes)',
      }),
    ),
  },
  { additionalProperties: false, description: 'Xiaomi MiPush settings' },
);

export type XiaomiSettingsInput = Static<typeof XiaomiSettingsSchema>;

/** Everything the adapter needs, checked once. */
export interface XiaomiSettings {
  appSecret: string;
  packageName: string;
  region: XiaomiRegion;
  /** Base URL of the API (the region's host, or `url`), without a trailing slash. */
  baseUrl: string;
  ringChannelId: string;
  messageChannelId: string;
  ca: string | undefined;
}

const fields = Object.keys(XiaomiSettingsSchema.properties);
const required = ['app_secret', 'package_name', 'ring_channel_id', 'message_channel_id'];
/** An Android application id: two or more dot-separated Java identifiers. */
const packagePattern = /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+$/;
/** Channel ids are the app's own strings (or the console's numbers): printable, no commas. */
const channelPattern = /^[^\s,\p{C}]{1,128}$/u;

function isRegion(value: string): value is XiaomiRegion {
  return Object.hasOwn(XIAOMI_REGION_URLS, value);
}

/**
 * Checks an app's MiPush settings and resolves the host: `url` when given, else the host of
 * `region` in `regionUrls` (Xiaomi's, unless a deployment routes regions elsewhere). Returns
 * one operator-readable problem (an admin-API 400) otherwise; never echoes `app_secret`.
 */
export function validateXiaomiSettings(
  input: unknown,
  regionUrls: XiaomiRegionUrls = XIAOMI_REGION_URLS,
): SettingsCheck<XiaomiSettings> {
  const fail = (error: string): SettingsCheck<XiaomiSettings> => ({ ok: false, error });
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return fail('Xiaomi settings must be a JSON object');
  }
  const record = input as Record<string, unknown>;
  const unknown = Object.keys(record).filter((key) => !fields.includes(key));
  if (unknown.length > 0) {
    return fail(
      `unknown field ${unknown.map((key) => `\`${key}\``).join(', ')} (expected ${fields.join(', ')})`,
    );
  }
  for (const field of required) {
    if (record[field] === undefined) return fail(`missing ${field}`);
  }
  for (const field of fields) {
    if (record[field] !== undefined && typeof record[field] !== 'string')
      return fail(`${field} must be a string`);
  }
  const given = record as XiaomiSettingsInput;

  if (!/^[\x21-\x7e]{8,256}$/.test(given.app_secret)) {
    return fail(
      'app_secret must be the AppSecret from the Xiaomi console (8 or more visible characters, no spaces)',
    );
  }
  if (given.package_name.length > 255 || !packagePattern.test(given.package_name)) {
    return fail('package_name must be an Android package name such as com.example.doorbell');
  }
  for (const field of ['ring_channel_id', 'message_channel_id'] as const) {
    if (!channelPattern.test(given[field])) {
      return fail(
        `${field} must be a channel id from the Xiaomi console (1–128 characters, no spaces or commas)`,
      );
    }
  }
  const region = given.region ?? XIAOMI_DEFAULT_REGION;
  if (!isRegion(region)) return fail(`region must be one of ${XIAOMI_REGIONS.join(', ')}`);
  if (given.app_id !== undefined && !/^\d{1,32}$/.test(given.app_id)) {
    return fail('app_id must be the AppID from the Xiaomi console (digits)');
  }
  const base = checkBaseUrl(given.url ?? regionUrls[region], 'url');
  if (typeof base !== 'string') return fail(base.error);
  if (given.ca !== undefined) {
    const problem = checkCa(given.ca);
    if (problem !== undefined) return fail(problem);
  }
  return {
    ok: true,
    settings: {
      appSecret: given.app_secret,
      packageName: given.package_name,
      region,
      baseUrl: base,
      ringChannelId: given.ring_channel_id,
      messageChannelId: given.message_channel_id,
      ca: given.ca,
    },
  };
}

/** The non-secret part of the settings, for GET: never `app_secret`. */
export function describeXiaomiSettings(given: XiaomiSettingsInput): Record<string, unknown> {
  return {
    app_id: given.app_id ?? null,
    package_name: given.package_name,
    region: given.region ?? XIAOMI_DEFAULT_REGION,
    ring_channel_id: given.ring_channel_id,
    message_channel_id: given.message_channel_id,
    url: given.url ?? null,
    ca: given.ca === undefined ? null : 'configured',
  };
}
