import type { FastifyRequest, onRequestHookHandler } from 'fastify';
import { AppError } from '../errors.js';

/** The login session behind an authenticated request. */
export interface AuthenticatedSession {
  userId: number;
  sessionId: string;
  /** When the access token stops being accepted (Unix ms). */
  validUntil: number;
}

/** Turns a login token into its session; the accounts feature implements it. */
export interface SessionAuthenticator {
  /** The session from memory when it is known there, without a query; otherwise undefined. */
  cachedSession(token: string): AuthenticatedSession | undefined;
  /** The session, or an AppError for a token that is unknown, expired or revoked. */
  authenticate(token: string): Promise<AuthenticatedSession>;
}

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
export function requireSession(sessions: SessionAuthenticator): onRequestHookHandler {
  return (request, _reply, done) => {
    const token = tokenFromHeaders(request);
    if (token === undefined) {
      done(new AppError('NO_TOKEN'));
      return;
    }
    const cached = sessions.cachedSession(token);
    if (cached !== undefined) {
      request.session = cached;
      done();
      return;
    }
    sessions.authenticate(token).then(
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
