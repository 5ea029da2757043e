import { defineProvider } from '../catalogue.js';
import { createHonorAdapter } from './honor.adapter.js';
import {
  describeHonorSettings,
  HONOR_HOSTS,
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

export const honorProvider = defineProvider({
  id: 'honor',
  schema: HonorSettingsSchema,
  parse: validateHonorSettings,
  describe: describeHonorSettings,
  createAdapter: createHonorAdapter,
  buildRequest(message, input, now) {
    const check = input === undefined ? undefined : validateHonorSettings(input);
    return buildHonorRequest([message], check?.ok === true ? check.settings : inboxDefaults, now);
  },
});
