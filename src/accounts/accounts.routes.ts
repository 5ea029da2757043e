import type { onRequestHookHandler } from 'fastify';
import { AppError } from '../errors.js';
import { clientInfo, requireSession, sessionOf, tokenFromHeaders } from '../http/auth.js';
import { authErrors, commonErrors, ErrorBody, SuccessBody, tokenSecurity } from '../http/schemas.js';
import type { TypedApp } from '../http/typed-app.js';
import {
  ChangePasswordBody,
  DeleteAccountBody,
  LoginBody,
  LoginResponse,
  LogoutBody,
  ProfileResponse,
  ReflashBody,
  RegisterBody,
} from './accounts.schemas.js';
import type { AccountsService } from './accounts.service.js';

const tags = ['accounts'];
const success = { message: 'success' } as const;

export function accountsRoutes(app: TypedApp, accounts: AccountsService): void {
  const authenticated = requireSession(accounts);
  signInRoutes(app, accounts);
  sessionRoutes(app, accounts, authenticated);
  accountChangeRoutes(app, accounts, authenticated);
}

/** Registration, login and the token refresh: no session needed. */
function signInRoutes(app: TypedApp, accounts: AccountsService): void {
  app.post(
    '/v1/api/user',
    {
      schema: {
        tags,
        summary: 'Register a user and log in',
        body: RegisterBody,
        response: { 201: LoginResponse, 409: ErrorBody, ...commonErrors, 429: ErrorBody },
      },
    },
    async (request, reply) => {
      const result = await accounts.register(request.body, clientInfo(request));
      return reply.code(201).send({ ...result, ...success });
    },
  );

  app.post(
    '/v1/api/user/login',
    {
      schema: {
        tags,
        summary: 'Log in with user name, phone or e-mail',
        body: LoginBody,
        response: { 201: LoginResponse, ...authErrors, ...commonErrors },
      },
    },
    async (request, reply) => {
      const result = await accounts.login(request.body, clientInfo(request));
      return reply.code(201).send({ ...result, ...success });
    },
  );

  for (const url of ['/v1/api/user/reflash', '/v1/api/user/refresh']) {
    app.post(
      url,
      {
        schema: {
          tags,
          summary: 'Trade the reflash_key for a new token and reflash_key',
          description:
            'The key rotates on every use. Retrying with the key just replaced (within the grace period) succeeds; any other reuse ends the session.',
          body: ReflashBody,
          response: { 201: LoginResponse, ...authErrors, ...commonErrors },
        },
      },
      async (request, reply) => {
        const result = await accounts.refresh(request.body.reflash_key, clientInfo(request));
        return reply.code(201).send({ ...result, ...success });
      },
    );
  }
}

/** Logout and the profile of the signed-in user. */
function sessionRoutes(app: TypedApp, accounts: AccountsService, authenticated: onRequestHookHandler): void {
  app.post(
    '/v1/api/user/logout',
    {
      schema: {
        tags,
        summary: 'End this session and remove the push tokens registered under it',
        description:
          'The token comes from the `token` header or, as in the manual, from the body `{username, token}`.',
        body: LogoutBody,
        security: tokenSecurity,
        response: { 200: SuccessBody, ...authErrors, ...commonErrors },
      },
    },
    async (request) => {
      const token = tokenFromHeaders(request) ?? request.body?.token?.trim();
      if (!token) throw new AppError('NO_TOKEN');
      const session = await accounts.authenticate(token);
      const username = request.body?.username;
      if (username && username.toLowerCase() !== (await accounts.usernameOf(session)).toLowerCase()) {
        throw new AppError('INVALID_TOKEN');
      }
      await accounts.logout(session);
      return success;
    },
  );

  app.get(
    '/v1/api/user',
    {
      onRequest: authenticated,
      schema: {
        tags,
        summary: 'The caller’s profile',
        security: tokenSecurity,
        response: { 200: ProfileResponse, ...authErrors },
      },
    },
    async (request) => accounts.profile(sessionOf(request)),
  );
}

/** Changes to the account itself: password and deletion. */
function accountChangeRoutes(
  app: TypedApp,
  accounts: AccountsService,
  authenticated: onRequestHookHandler,
): void {
  app.put(
    '/v1/api/user/password',
    {
      onRequest: authenticated,
      schema: {
        tags,
        summary: 'Change the password; ends every other session of the user',
        body: ChangePasswordBody,
        security: tokenSecurity,
        response: { 200: SuccessBody, 403: ErrorBody, ...authErrors, ...commonErrors },
      },
    },
    async (request) => {
      await accounts.changePassword(sessionOf(request), request.body, clientInfo(request));
      return success;
    },
  );

  app.delete(
    '/v1/api/user',
    {
      onRequest: authenticated,
      schema: {
        tags,
        summary: 'Delete the account, its sessions, push registrations and third-party identities',
        description:
          'A user with a password confirms with it. A user created by a third-party login has none: the session must be recent (`ACCOUNT_DELETE_RECENT_LOGIN_SECONDS`; log in with the provider again), else 403 `RECENT_LOGIN_REQUIRED`. Apple tokens kept from Sign in with Apple are revoked.',
        body: DeleteAccountBody,
        security: tokenSecurity,
        response: { 200: SuccessBody, 403: ErrorBody, ...authErrors, ...commonErrors },
      },
    },
    async (request) => {
      await accounts.deleteAccount(sessionOf(request), request.body.password, clientInfo(request));
      return success;
    },
  );
}
