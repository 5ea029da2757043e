import { defineProvider } from '../catalogue.js';
import { createHuaweiAdapter } from './huawei.adapter.js';
import {
  describeHuaweiSettings,
  HUAWEI_DEFAULT_URL,
  HuaweiSettingsSchema,
  validateHuaweiSettings,
} from './huawei.config.js';
import { buildHuaweiRequest } from './huawei.request.js';

export const huaweiProvider = defineProvider({
  id: 'huawei',
  schema: HuaweiSettingsSchema,
  parse: validateHuaweiSettings,
  describe: describeHuaweiSettings,
  createAdapter: createHuaweiAdapter,
  buildRequest(message, input, now) {
    const check = input === undefined ? undefined : validateHuaweiSettings(input);
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
});
