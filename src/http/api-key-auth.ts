import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { ApiKey, ApiKeys, Scope } from '../admin/api-keys.js';
import { AppError } from '../errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    apiKey: ApiKey | null;
  }
}

/** Server-to-server calls carry `Authorization: Bearer <api key>` with the scope they need. */
export function requireApiKey(apiKeys: ApiKeys, scope: Scope): onRequestAsyncHookHandler {
  return async (request) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    if (match?.[1] === undefined) throw new AppError('NO_API_KEY');
    request.apiKey = await apiKeys.authorize(match[1], scope);
  };
}

export function apiKeyOf(request: FastifyRequest): ApiKey {
  if (request.apiKey === null) throw new AppError('NO_API_KEY');
  return request.apiKey;
}
