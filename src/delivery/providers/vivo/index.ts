import { type ProviderModule, problemOf } from '../catalogue.js';
import { createVivoAdapter } from './vivo.adapter.js';
import {
  describeVivoSettings,
  VIVO_DEFAULT_BASE_URL,
  type VivoSettingsInput,
  VivoSettingsSchema,
  validateVivoSettings,
} from './vivo.config.js';
import { buildVivoSendRequest } from './vivo.request.js';

export const vivoProvider: ProviderModule = {
  id: 'vivo',
  schema: VivoSettingsSchema,
  settings: {
    validate: problemOf(validateVivoSettings),
    describe: describeVivoSettings,
  },
  createAdapter: (settings, context) =>
    createVivoAdapter(settings, { clock: context.clock, accessTokens: context.accessTokens }),
  buildRequest(message, settings, now) {
    const input = settings as VivoSettingsInput | undefined;
    return buildVivoSendRequest(
      message,
      {
        appId: input?.app_id ?? 'inbox',
        baseUrl: input?.url ?? VIVO_DEFAULT_BASE_URL,
        ringCategory: input?.ring_category ?? 'IM',
        messageCategory: input?.message_category ?? 'DEVICE_REMINDER',
      },
      now,
    );
  },
};
