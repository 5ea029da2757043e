import { createHash } from 'node:crypto';
import { type ProviderModule, problemOf } from '../catalogue.js';
import { createApnsAdapter } from './apns.adapter.js';
import {
  type ApnsCredentials,
  ApnsCredentialsSchema,
  apnsEndpoints,
  isTokenCredentials,
  validateApnsCredentials,
} from './apns.config.js';
import { buildApnsRequest } from './apns.request.js';

export const apnsProvider: ProviderModule = {
  id: 'apns',
  schema: ApnsCredentialsSchema,
  settings: {
    validate: problemOf(validateApnsCredentials),
    describe(settings) {
      const credentials = settings as ApnsCredentials;
      const endpoints = apnsEndpoints(credentials);
      const common = {
        production_url: endpoints.productionUrl,
        sandbox_url: endpoints.sandboxUrl,
        ca: credentials.ca === undefined ? null : 'configured',
      };
      if (isTokenCredentials(credentials)) {
        return { auth: 'token', team_id: credentials.team_id, key_id: credentials.key_id, ...common };
      }
      return {
        auth: 'certificate',
        certificate_sha256: createHash('sha256').update(credentials.certificate).digest('hex').slice(0, 16),
        ...common,
      };
    },
  },
  createAdapter: (settings, context) =>
    createApnsAdapter(settings as ApnsCredentials, {
      clock: context.clock,
      ...(context.providerTokens === undefined ? {} : { providerTokens: context.providerTokens }),
    }),
  buildRequest(message, settings, now) {
    return buildApnsRequest(message, apnsEndpoints((settings ?? {}) as ApnsCredentials), now);
  },
};
