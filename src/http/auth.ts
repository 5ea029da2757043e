import type { FastifyRequest, onRequestHookHandler } from 'fastify';
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

/**
 * Rejects a request without a valid token before its body is read. Written with a callback: a
 * cached session, the common case, then costs no promise on every authenticated request.
 */
export function requireSession(accounts: AccountsService): onRequestHookHandler {
  return (request, _reply, done) => {
    const token = tokenFromHeaders(request);
    if (token === undefined) {
      done(new AppError('NO_TOKEN'));
      return;
    }
    const cached = accounts.cachedSession(token);
    if (cached !== undefined) {
      request.session = cached;
      done();
      return;
    }
    accounts.authenticate(token).then(
      (session) => {
        request.session = session;
        done();
      },
      (error: unknown) => done(error as Error),
    );
  };
}

export function clientInfo(request: FastifyRequest) {
  return { ip: request.ip, userAgent: request.headers['user-agent'] };
}
