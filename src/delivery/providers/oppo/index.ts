import { type ProviderModule, problemOf } from '../catalogue.js';
import { createOppoAdapter } from './oppo.adapter.js';
import {
  describeOppoSettings,
  OPPO_DEFAULT_INTL_URL,
  OPPO_DEFAULT_RING_NOTIFY_LEVEL,
  OPPO_DEFAULT_URL,
  type OppoCredentials,
  OppoSettingsSchema,
  validateOppoSettings,
} from './oppo.config.js';
import { buildOppoRequest } from './oppo.request.js';

export const oppoProvider: ProviderModule = {
  id: 'oppo',
  schema: OppoSettingsSchema,
  settings: {
    validate: problemOf(validateOppoSettings),
    describe: describeOppoSettings,
  },
  createAdapter: (settings, context) =>
    createOppoAdapter(settings as OppoCredentials, {
      clock: context.clock,
      accessTokens: context.accessTokens,
    }),
  buildRequest(message, settings, now) {
    const credentials = settings as Partial<OppoCredentials> | undefined;
    return buildOppoRequest(
      [message],
      {
        url: (credentials?.url ?? OPPO_DEFAULT_URL).replace(/\/+$/, ''),
        intlUrl: (credentials?.intl_url ?? OPPO_DEFAULT_INTL_URL).replace(/\/+$/, ''),
        ringChannelId: credentials?.ring_channel_id,
        messageChannelId: credentials?.message_channel_id,
        ringCategory: credentials?.ring_category,
        messageCategory: credentials?.message_category,
        ringNotifyLevel: credentials?.notify_level ?? OPPO_DEFAULT_RING_NOTIFY_LEVEL,
      },
      now,
    );
  },
};
