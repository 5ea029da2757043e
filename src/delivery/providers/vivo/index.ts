import { defineProvider } from '../catalogue.js';
import { createVivoAdapter } from './vivo.adapter.js';
import {
  describeVivoSettings,
  VIVO_DEFAULT_BASE_URL,
  VivoSettingsSchema,
  validateVivoSettings,
} from './vivo.config.js';
import { buildVivoSendRequest } from './vivo.request.js';

export const vivoProvider = defineProvider({
  id: 'vivo',
  schema: VivoSettingsSchema,
  parse: validateVivoSettings,
  describe: describeVivoSettings,
  createAdapter: createVivoAdapter,
  buildRequest: (message, input, now) =>
    buildVivoSendRequest(
      message,
      {
        appId: input?.app_id ?? 'inbox',
        baseUrl: input?.url ?? VIVO_DEFAULT_BASE_URL,
        ringCategory: input?.ring_category ?? 'IM',
        messageCategory: input?.message_category ?? 'DEVICE_REMINDER',
      },
      now,
    ),
});
