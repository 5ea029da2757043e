import { createHash } from 'node:crypto';
import { defineProvider } from '../catalogue.js';
import { createApnsAdapter } from './apns.adapter.js';
import {
  type ApnsCredentials,
  ApnsCredentialsSchema,
  apnsEndpoints,
  isTokenCredentials,
  validateApnsCredentials,
} from './apns.config.js';
import { buildApnsRequest } from './apns.request.js';

function describeApnsCredentials(credentials: ApnsCredentials): Record<string, unknown> {
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
}

export const apnsProvider = defineProvider({
  id: 'apns',
  schema: ApnsCredentialsSchema,
  parse(input) {
    const check = validateApnsCredentials(input);
    return check.ok ? { ok: true, settings: check.value } : check;
  },
  describe: describeApnsCredentials,
  createAdapter: (credentials, context) =>
    createApnsAdapter(credentials, {
      clock: context.clock,
      ...(context.providerTokens === undefined ? {} : { providerTokens: context.providerTokens }),
    }),
  buildRequest: (message, input, now) => buildApnsRequest(message, apnsEndpoints(input ?? {}), now),
});
