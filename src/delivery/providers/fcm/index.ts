import { defineProvider } from '../catalogue.js';
import { createFcmAdapter } from './fcm.adapter.js';
import {
  describeFcmSettings,
  FCM_DEFAULT_BASE_URL,
  FcmSettingsSchema,
  validateFcmSettings,
} from './fcm.config.js';
import { buildFcmRequest } from './fcm.request.js';

export const fcmProvider = defineProvider({
  id: 'fcm',
  schema: FcmSettingsSchema,
  parse: validateFcmSettings,
  describe: describeFcmSettings,
  createAdapter: createFcmAdapter,
  messageOptions: (input) => ({ androidChannelId: input.channel_id }),
  buildRequest: (message, input, now) =>
    buildFcmRequest(
      message,
      {
        projectId: input?.service_account?.project_id ?? 'inbox',
        baseUrl: input?.url ?? FCM_DEFAULT_BASE_URL,
      },
      now,
    ),
});
