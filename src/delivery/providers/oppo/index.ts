import { defineProvider } from '../catalogue.js';
import { createOppoAdapter } from './oppo.adapter.js';
import {
  describeOppoSettings,
  OPPO_DEFAULT_INTL_URL,
  OPPO_DEFAULT_RING_NOTIFY_LEVEL,
  OPPO_DEFAULT_URL,
  OppoSettingsSchema,
  validateOppoSettings,
} from './oppo.config.js';
import { buildOppoRequest } from './oppo.request.js';

export const oppoProvider = defineProvider({
  id: 'oppo',
  schema: OppoSettingsSchema,
  parse: validateOppoSettings,
  describe: describeOppoSettings,
  createAdapter: createOppoAdapter,
  buildRequest: (message, input, now) =>
    buildOppoRequest(
      [message],
      {
        url: (input?.url ?? OPPO_DEFAULT_URL).replace(/\/+$/, ''),
        intlUrl: (input?.intl_url ?? OPPO_DEFAULT_INTL_URL).replace(/\/+$/, ''),
        ringChannelId: input?.ring_channel_id,
        messageChannelId: input?.message_channel_id,
        ringCategory: input?.ring_category,
        messageCategory: input?.message_category,
        ringNotifyLevel: input?.notify_level ?? OPPO_DEFAULT_RING_NOTIFY_LEVEL,
      },
      now,
    ),
});
