import type { onRequestAsyncHookHandler } from 'fastify';
import { type TSchema, Type } from 'typebox';
import { AppError } from '../errors.js';
import { requireApiKey } from '../http/api-key-auth.js';
import { BundleParams, commonErrors, ErrorBody, Language, SuccessBody } from '../http/schemas.js';
import type { TypedApp } from '../http/typed-app.js';
import { type ApiKeys, scopes } from './api-keys.js';
import type { Apps } from './apps.js';

const security = [{ apiKey: [] }];
const tags = ['admin'];
const keyErrors = { 401: ErrorBody, 403: ErrorBody } as const;

const Flag = Type.Union([Type.Object({ reason: Type.String(), at: Type.Integer() }), Type.Null()]);
const AppView = Type.Object({
  bundleid: Type.String(),
  name: Type.String(),
  default_language: Type.String(),
  mode: Type.Union([Type.Literal('live'), Type.Literal('inbox')]),
  providers: Type.Record(
    Type.String(),
    Type.Object(
      { fingerprint: Type.String(), flagged: Flag },
      { additionalProperties: true, description: 'the non-secret settings; secrets are never shown' },
    ),
  ),
  created_at: Type.Integer(),
  updated_at: Type.Integer(),
});

const ApiKeyView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  prefix: Type.String(),
  scopes: Type.Array(Type.String()),
  created_at: Type.Integer(),
  last_used_at: Type.Union([Type.Integer(), Type.Null()]),
  revoked_at: Type.Union([Type.Integer(), Type.Null()]),
});

/** The body of an app's PUT: its fields, and per provider its settings (null removes them). */
function appBody(providerSchemas: Record<string, TSchema>) {
  const providerFields: Record<string, TSchema> = {};
  for (const [provider, schema] of Object.entries(providerSchemas)) {
    providerFields[provider] = Type.Optional(
      Type.Union([schema, Type.Null()], {
        description: `${provider} settings; null removes them, absent keeps them`,
      }),
    );
  }
  return Type.Object({
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    default_language: Type.Optional(Language),
    mode: Type.Optional(
      Type.Union([Type.Literal('live'), Type.Literal('inbox')], {
        description: 'live: send to the providers; inbox: store the exact requests instead',
      }),
    ),
    ...providerFields,
  });
}

export function adminRoutes(
  app: TypedApp,
  deps: { apiKeys: ApiKeys; apps: Apps; providerSchemas: Record<string, TSchema> },
): void {
  const onRequest = requireApiKey(deps.apiKeys, 'admin');
  putAppRoute(app, deps.apps, deps.providerSchemas, onRequest);
  appRoutes(app, deps.apps, onRequest);
  apiKeyRoutes(app, deps.apiKeys, onRequest);
}

function putAppRoute(
  app: TypedApp,
  apps: Apps,
  providerSchemas: Record<string, TSchema>,
  onRequest: onRequestAsyncHookHandler,
): void {
  const AppBody = appBody(providerSchemas);
  app.put(
    '/v1/admin/apps/:bundleid',
    {
      onRequest,
      schema: {
        tags,
        security,
        summary: 'Create or change an app and its provider credentials',
        description:
          'Secrets are write-only and encrypted at rest. Provider objects replace the stored ones; null removes one.',
        params: BundleParams,
        body: AppBody,
        response: { 200: AppView, 201: AppView, ...keyErrors, ...commonErrors },
      },
    },
    async (request, reply) => {
      const { name, default_language, mode, ...rest } = request.body as Record<string, unknown> & {
        name?: string;
        default_language?: string;
        mode?: 'live' | 'inbox';
      };
      const providers: Record<string, unknown> = {};
      for (const provider of Object.keys(providerSchemas)) {
        if (provider in rest) providers[provider] = rest[provider];
      }
      const result = await apps.put(request.params.bundleid, {
        name,
        default_language,
        mode,
        providers,
      });
      return reply.code(result.created ? 201 : 200).send(result.app);
    },
  );
}

function appRoutes(app: TypedApp, apps: Apps, onRequest: onRequestAsyncHookHandler): void {
  app.get(
    '/v1/admin/apps',
    {
      onRequest,
      schema: { tags, security, summary: 'List apps', response: { 200: Type.Array(AppView), ...keyErrors } },
    },
    async () => apps.list(),
  );

  app.get(
    '/v1/admin/apps/:bundleid',
    {
      onRequest,
      schema: {
        tags,
        security,
        summary: 'One app',
        params: BundleParams,
        response: { 200: AppView, 404: ErrorBody, ...keyErrors },
      },
    },
    async (request) => apps.get(request.params.bundleid),
  );

  app.delete(
    '/v1/admin/apps/:bundleid',
    {
      onRequest,
      schema: {
        tags,
        security,
        summary: 'Delete an app',
        params: BundleParams,
        response: { 200: SuccessBody, 404: ErrorBody, ...keyErrors },
      },
    },
    async (request) => {
      await apps.remove(request.params.bundleid);
      return { message: 'success' as const };
    },
  );
}

function apiKeyRoutes(app: TypedApp, apiKeys: ApiKeys, onRequest: onRequestAsyncHookHandler): void {
  app.get(
    '/v1/admin/keys',
    {
      onRequest,
      schema: {
        tags,
        security,
        summary: 'List API keys',
        response: { 200: Type.Array(ApiKeyView), ...keyErrors },
      },
    },
    async () => apiKeys.list(),
  );

  app.post(
    '/v1/admin/keys',
    {
      onRequest,
      schema: {
        tags,
        security,
        summary: 'Create an API key (the key is shown once)',
        body: Type.Object({
          name: Type.String({ minLength: 1, maxLength: 128 }),
          scopes: Type.Array(Type.Union(scopes.map((scope) => Type.Literal(scope))), {
            minItems: 1,
            maxItems: 2,
          }),
        }),
        response: {
          201: Type.Object({ ...ApiKeyView.properties, key: Type.String() }),
          ...keyErrors,
          ...commonErrors,
        },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await apiKeys.create(request.body.name, request.body.scopes)),
  );

  app.delete(
    '/v1/admin/keys/:id',
    {
      onRequest,
      schema: {
        tags,
        security,
        summary: 'Revoke an API key',
        params: Type.Object({ id: Type.String({ pattern: '^key_[0-9a-f]{12}$' }) }),
        response: { 200: SuccessBody, 404: ErrorBody, ...keyErrors, 400: ErrorBody },
      },
    },
    async (request) => {
      if (!(await apiKeys.revoke(request.params.id))) throw new AppError('NOT_FOUND');
      return { message: 'success' as const };
    },
  );
}
