import { type ProviderModule, problemOf } from '../catalogue.js';
import { createHonorAdapter } from './honor.adapter.js';
import {
  HONOR_HOSTS,
  type HonorSettingsInput,
  HonorSettingsSchema,
  validateHonorSettings,
} from './honor.config.js';
import { buildHonorRequest, type HonorRequestSettings } from './honor.request.js';

/** What inbox mode shows for an app without (usable) Honor settings. */
const inboxDefaults: HonorRequestSettings = {
  appId: 'inbox',
  baseUrl: HONOR_HOSTS.hihonor.url,
  ringChannelId: undefined,
  messageChannelId: undefined,
  ringImportance: 'NORMAL',
  messageImportance: 'NORMAL',
  ringCategory: undefined,
};

export const honorProvider: ProviderModule = {
  id: 'honor',
  schema: HonorSettingsSchema,
  settings: {
    validate: problemOf(validateHonorSettings),
    describe(settings) {
      const given = settings as HonorSettingsInput;
      return {
        app_id: given.app_id,
        client_id: given.client_id,
        ring_channel_id: given.ring_channel_id ?? null,
        message_channel_id: given.message_channel_id ?? null,
        ring_importance: given.ring_importance ?? 'NORMAL',
        message_importance: given.message_importance ?? 'NORMAL',
        ring_category: given.ring_category ?? null,
        url: given.url ?? null,
        auth_url: given.auth_url ?? null,
        ca: given.ca === undefined ? null : 'configured',
      };
    },
  },
  createAdapter: (settings, context) =>
    createHonorAdapter(settings as HonorSettingsInput, {
      clock: context.clock,
      accessTokens: context.accessTokens,
    }),
  buildRequest(message, settings, now) {
    const check = settings === undefined ? undefined : validateHonorSettings(settings);
    return buildHonorRequest([message], check?.ok === true ? check.settings : inboxDefaults, now);
  },
};
