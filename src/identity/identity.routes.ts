import type { onRequestHookHandler } from 'fastify';
import type { TSchema } from 'typebox';
import { LoginResponse } from '../accounts/accounts.schemas.js';
import type { IdentityProvider } from '../db/schema.js';
import { clientInfo, requireSession, type SessionAuthenticator, sessionOf } from '../http/auth.js';
import { authErrors, commonErrors, ErrorBody, SuccessBody, tokenSecurity } from '../http/schemas.js';
import type { TypedApp } from '../http/typed-app.js';
import {
  AppleLoginBody,
  BindResponse,
  FacebookLoginBody,
  GoogleLoginBody,
  IdentitiesResponse,
  ProviderParams,
  WeixinLoginBody,
} from './identity.schemas.js';
import type { IdentityService } from './identity.service.js';
import type { ProviderInputs } from './provider.js';

const tags = ['third-party login'];
const success = { message: 'success' } as const;
const providerErrors = { 501: ErrorBody, 503: ErrorBody } as const;

const providers: Array<{ provider: IdentityProvider; name: string; body: TSchema; how: string }> = [
  {
    provider: 'weixin',
    name: 'WeChat',
    body: WeixinLoginBody,
    how: 'Send `{code}` from the WeChat SDK (recommended), or the manual’s `{access_token, openid}`. A code is single use; a retry with the same code within WEIXIN_CODE_CACHE_SECONDS logs in again.',
  },
  {
    provider: 'facebook',
    name: 'Facebook',
    body: FacebookLoginBody,
    how: 'Send `{access_token}` from the Facebook SDK; it must have been issued to FACEBOOK_APP_ID.',
  },
  {
    provider: 'apple',
    name: 'Sign in with Apple',
    body: AppleLoginBody,
    how: 'Send `{identity_token, authorization_code, nonce, full_name}` from the Apple ID credential. `nonce` is the raw nonce whose SHA-256 (hex) went to Apple; `full_name` only comes on the first authorization.',
  },
  {
    provider: 'google',
    name: 'Google Sign-In',
    body: GoogleLoginBody,
    how: 'Send `{id_token}`; its audience must be one of GOOGLE_CLIENT_IDS.',
  },
];

export function identityRoutes(
  app: TypedApp,
  sessions: SessionAuthenticator,
  identity: IdentityService,
): void {
  const authenticated = requireSession(sessions);
  for (const entry of providers) providerRoutes(app, identity, authenticated, entry);
  linkRoutes(app, identity, authenticated);
}

/** Login with a provider, and binding one of its identities to the caller. */
function providerRoutes(
  app: TypedApp,
  identity: IdentityService,
  authenticated: onRequestHookHandler,
  { provider, name, body, how }: (typeof providers)[number],
): void {
  app.post(
    `/v1/api/user/${provider}/app/login`,
    {
      schema: {
        tags,
        summary: `Log in with ${name}`,
        description: `${how} The first login of an identity creates a user (user name \`${provider === 'weixin' ? 'wx' : provider === 'facebook' ? 'fb' : provider}_…\`, no password); later logins find it. 401 when the provider refuses the token, 501 when ${name} is not configured, 503 when the provider cannot be reached.`,
        body,
        response: { 201: LoginResponse, ...authErrors, ...commonErrors, ...providerErrors },
      },
    },
    async (request, reply) => {
      const result = await identity.login(
        provider,
        request.body as ProviderInputs[IdentityProvider],
        clientInfo(request),
      );
      return reply.code(201).send({ ...result, ...success });
    },
  );

  app.post(
    `/v1/api/user/bind/${provider}`,
    {
      onRequest: authenticated,
      schema: {
        tags,
        summary: `Link a ${name} identity to the caller`,
        description: `Same body as the ${name} login. 409 when the identity belongs to another user or the caller already has another ${name} identity; binding the caller’s own identity again succeeds.`,
        body,
        security: tokenSecurity,
        response: { 201: BindResponse, 409: ErrorBody, ...authErrors, ...commonErrors, ...providerErrors },
      },
    },
    async (request, reply) => {
      const linked = await identity.bind(
        sessionOf(request),
        provider,
        request.body as ProviderInputs[IdentityProvider],
        clientInfo(request),
      );
      return reply.code(201).send({ ...linked, ...success });
    },
  );
}

/** The caller's linked identities: unlink one, list them. */
function linkRoutes(app: TypedApp, identity: IdentityService, authenticated: onRequestHookHandler): void {
  app.delete(
    '/v1/api/user/bind/:provider',
    {
      onRequest: authenticated,
      schema: {
        tags,
        summary: 'Unlink the caller’s identity of a provider',
        description:
          'Refused with 409 `LAST_LOGIN_METHOD` when it is the only way the user can log in (no password, no other identity). Unlinking Apple revokes the tokens Apple gave.',
        params: ProviderParams,
        security: tokenSecurity,
        response: { 200: SuccessBody, 404: ErrorBody, 409: ErrorBody, ...authErrors, ...commonErrors },
      },
    },
    async (request) => {
      await identity.unbind(sessionOf(request), request.params.provider);
      return success;
    },
  );

  app.get(
    '/v1/api/user/identities',
    {
      onRequest: authenticated,
      schema: {
        tags,
        summary: 'The caller’s third-party identities',
        security: tokenSecurity,
        response: { 200: IdentitiesResponse, ...authErrors },
      },
    },
    async (request) => identity.list(sessionOf(request)),
  );
}
