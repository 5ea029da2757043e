import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { AppError } from '../errors.js';

/** The API key a server-to-server request was made with. */
export interface AuthorizedApiKey {
  id: string;
}

/** Checks a presented API key for a scope; the admin feature implements it. */
export interface ApiKeyVerifier<Scope extends string = string> {
  /** The key, or an AppError: unknown or revoked (401), lacking the scope (403). */
  authorize(presented: string, needed: Scope): Promise<AuthorizedApiKey>;
}

declare module 'fastify' {
  interface FastifyRequest {
    apiKey: AuthorizedApiKey | null;
  }
}

/** Server-to-server calls carry `Authorization: Bearer <api key>` with the scope they need. */
export function requireApiKey<Scope extends string>(
  apiKeys: ApiKeyVerifier<Scope>,
  scope: Scope,
): onRequestAsyncHookHandler {
  return async (request) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    if (match?.[1] === undefined) throw new AppError('NO_API_KEY');
    request.apiKey = await apiKeys.authorize(match[1], scope);
  };
}

export function apiKeyOf(request: FastifyRequest): AuthorizedApiKey {
  if (request.apiKey === null) throw new AppError('NO_API_KEY');
  return request.apiKey;
}
