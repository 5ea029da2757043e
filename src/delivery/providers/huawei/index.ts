import { type ProviderModule, problemOf } from '../catalogue.js';
import { createHuaweiAdapter } from './huawei.adapter.js';
import {
  HUAWEI_DEFAULT_AUTH_URL,
  HUAWEI_DEFAULT_URL,
  type HuaweiSettingsInput,
  HuaweiSettingsSchema,
  validateHuaweiSettings,
} from './huawei.config.js';
import { buildHuaweiRequest } from './huawei.request.js';

export const huaweiProvider: ProviderModule = {
  id: 'huawei',
  schema: HuaweiSettingsSchema,
  settings: {
    validate: problemOf(validateHuaweiSettings),
    describe(settings) {
      const input = settings as HuaweiSettingsInput;
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
    },
  },
  createAdapter: (settings, context) =>
    createHuaweiAdapter(settings, { clock: context.clock, accessTokens: context.accessTokens }),
  buildRequest(message, settings, now) {
    const check = settings === undefined ? undefined : validateHuaweiSettings(settings);
    const configured = check?.ok === true ? check.settings : undefined;
    return buildHuaweiRequest(
      [message],
      {
        appId: configured?.appId ?? 'inbox',
        baseUrl: configured?.baseUrl ?? HUAWEI_DEFAULT_URL,
        messageChannelId: configured?.messageChannelId,
        ringChannelId: configured?.ringChannelId,
        importance: configured?.importance,
        category: configured?.category,
      },
      now,
    );
  },
};
