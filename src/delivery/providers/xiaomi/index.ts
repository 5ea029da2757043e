import { type ProviderModule, problemOf } from '../catalogue.js';
import { createXiaomiAdapter } from './xiaomi.adapter.js';
import {
  validateXiaomiCredentials,
  XIAOMI_DEFAULT_REGION,
  XIAOMI_REGION_URLS,
  type XiaomiCredentials,
  XiaomiCredentialsSchema,
  type XiaomiRegionUrls,
} from './xiaomi.config.js';
import { buildXiaomiRequest } from './xiaomi.request.js';

/**
 * The MiPush provider. `regionUrls` replaces Xiaomi's host of each region for the whole
 * deployment (a proxy per region, or a local fake); an app's own `url` still wins.
 */
export function createXiaomiProvider(options: { regionUrls?: XiaomiRegionUrls } = {}): ProviderModule {
  const regionUrls = options.regionUrls ?? XIAOMI_REGION_URLS;
  return {
    id: 'xiaomi',
    schema: XiaomiCredentialsSchema,
    settings: {
      validate: problemOf((settings) => validateXiaomiCredentials(settings, regionUrls)),
      describe(settings) {
        const credentials = settings as XiaomiCredentials;
        return {
          app_id: credentials.app_id ?? null,
          package_name: credentials.package_name,
          region: credentials.region ?? XIAOMI_DEFAULT_REGION,
          ring_channel_id: credentials.ring_channel_id,
          message_channel_id: credentials.message_channel_id,
          url: credentials.url ?? null,
          ca: credentials.ca === undefined ? null : 'configured',
        };
      },
    },
    createAdapter: (settings, context) =>
      createXiaomiAdapter(settings as XiaomiCredentials, { clock: context.clock, regionUrls }),
    buildRequest(message, settings, now) {
      const check = validateXiaomiCredentials(settings, regionUrls);
      if (check.ok) return buildXiaomiRequest(message, check.settings, now);
      // Inbox mode without (usable) settings: the request as the default region would get it.
      return buildXiaomiRequest(
        message,
        {
          baseUrl: regionUrls[XIAOMI_DEFAULT_REGION],
          packageName: message.bundleId,
          ringChannelId: 'ring',
          messageChannelId: 'message',
        },
        now,
      );
    },
  };
}

export const xiaomiProvider: ProviderModule = createXiaomiProvider();
