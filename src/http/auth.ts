import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { AccountsService } from '../accounts/accounts.service.js';
import type { AuthenticatedSession } from '../accounts/session-cache.js';
import { AppError } from '../errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    session: AuthenticatedSession | null;
  }
}

/**
 * The login token from the `token` header (the manual's form; header names are
 * case-insensitive) or from `Authorization: Bearer`.
 */
export function tokenFromHeaders(request: FastifyRequest): string | undefined {
  const header = request.headers.token;
  const token = Array.isArray(header) ? header[0] : header;
  if (token !== undefined && token.trim() !== '') return token.trim();
  const authorization = request.headers.authorization;
  const match = authorization === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  return match?.[1];
}

/** The session of an authenticated route; the hook below has set it. */
export function sessionOf(request: FastifyRequest): AuthenticatedSession {
  if (request.session === null) throw new AppError('NO_TOKEN');
  return request.session;
}

/** Rejects a request without a valid token before its body is read. */
export function requireSession(accounts: AccountsService): onRequestAsyncHookHandler {
  return async (request) => {
    const token = tokenFromHeaders(request);
    if (token === undefined) throw new AppError('NO_TOKEN');
    request.session = await accounts.authenticate(token);
  };
}

export function clientInfo(request: FastifyRequest) {
  return { ip: request.ip, userAgent: request.headers['user-agent'] };
}
