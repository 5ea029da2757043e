import { type ProviderModule, problemOf } from '../catalogue.js';
import { createFcmAdapter } from './fcm.adapter.js';
import {
  FCM_DEFAULT_BASE_URL,
  type FcmCredentials,
  FcmCredentialsSchema,
  validateFcmCredentials,
} from './fcm.config.js';
import { buildFcmRequest } from './fcm.request.js';

export const fcmProvider: ProviderModule = {
  id: 'fcm',
  schema: FcmCredentialsSchema,
  settings: {
    validate: problemOf(validateFcmCredentials),
    describe(settings) {
      const { service_account: account, url, ca, channel_id } = settings as FcmCredentials;
      return {
        project_id: account.project_id,
        client_email: account.client_email,
        private_key_id: account.private_key_id ?? null,
        token_uri: account.token_uri ?? null,
        url: url ?? null,
        ca: ca === undefined ? null : 'configured',
        channel_id: channel_id ?? null,
      };
    },
  },
  createAdapter: (settings, context) =>
    createFcmAdapter(settings as FcmCredentials, {
      clock: context.clock,
      accessTokens: context.accessTokens,
    }),
  messageOptions: (settings) => ({ androidChannelId: (settings as FcmCredentials).channel_id }),
  buildRequest(message, settings, now) {
    const credentials = settings as FcmCredentials | undefined;
    return buildFcmRequest(
      message,
      {
        projectId: credentials?.service_account.project_id ?? 'inbox',
        baseUrl: credentials?.url ?? FCM_DEFAULT_BASE_URL,
      },
      now,
    );
  },
};
