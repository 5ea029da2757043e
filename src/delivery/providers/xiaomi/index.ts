import { defineProvider, type ProviderEntry } from '../catalogue.js';
import { createXiaomiAdapter } from './xiaomi.adapter.js';
import {
  describeXiaomiSettings,
  validateXiaomiSettings,
  XIAOMI_DEFAULT_REGION,
  XIAOMI_REGION_URLS,
  type XiaomiRegionUrls,
  XiaomiSettingsSchema,
} from './xiaomi.config.js';
import { buildXiaomiRequest } from './xiaomi.request.js';

/**
 * The MiPush provider. `regionUrls` replaces Xiaomi's host of each region for the whole
 * deployment (a proxy per region, or a local fake); an app's own `url` still wins.
 */
export function createXiaomiProvider(options: { regionUrls?: XiaomiRegionUrls } = {}): ProviderEntry {
  const regionUrls = options.regionUrls ?? XIAOMI_REGION_URLS;
  const parse = (input: unknown) => validateXiaomiSettings(input, regionUrls);
  return defineProvider({
    id: 'xiaomi',
    schema: XiaomiSettingsSchema,
    parse,
    describe: describeXiaomiSettings,
    createAdapter: createXiaomiAdapter,
    buildRequest(message, input, now) {
      const check = parse(input);
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
  });
}

export const xiaomiProvider = createXiaomiProvider();
