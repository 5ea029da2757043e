import type { onRequestHookHandler } from 'fastify';
import { Type } from 'typebox';
import { requireSession, type SessionAuthenticator, sessionOf } from '../http/auth.js';
import { authErrors, commonErrors, ErrorBody, SuccessBody, tokenSecurity } from '../http/schemas.js';
import type { TypedApp } from '../http/typed-app.js';
import type { Channel } from './registry.repository.js';
import {
  DeleteAllResponse,
  RegistrationBody,
  RegistrationResponse,
  RegistrationUpdateBody,
  SeqParams,
} from './registry.schemas.js';
import type { RegistryService } from './registry.service.js';

const channels: ReadonlyArray<{ channel: Channel; path: string; name: string }> = [
  { channel: 'ring', path: '/v1/api/user/token', name: 'ring push (doorbell presses)' },
  { channel: 'message', path: '/v1/api/user/message/token', name: 'message push (notifications)' },
];

const success = { message: 'success' } as const;

export function registryRoutes(
  app: TypedApp,
  sessions: SessionAuthenticator,
  registry: RegistryService,
): void {
  const onRequest = requireSession(sessions);
  for (const entry of channels) {
    collectionRoutes(app, registry, onRequest, entry);
    rowRoutes(app, registry, onRequest, entry);
  }
}

/** Register a token, list the caller's rows, delete them all. */
function collectionRoutes(
  app: TypedApp,
  registry: RegistryService,
  onRequest: onRequestHookHandler,
  { channel, path, name }: (typeof channels)[number],
): void {
  const common = { security: tokenSecurity, tags: ['push tokens'] };
  app.post(
    path,
    {
      onRequest,
      schema: {
        ...common,
        summary: `Register the phone's ${name} token`,
        description:
          'Upsert: the same token updates its row; a token another user holds moves to the caller. A user keeps at most the configured number of rows per channel (the least recently registered dropped). A re-registration identical to its row is answered the same way but not rewritten while the row is younger than REGISTRATION_REFRESH_SECONDS.',
        body: RegistrationBody,
        response: { 201: SuccessBody, 403: ErrorBody, ...authErrors, ...commonErrors },
      },
    },
    async (request, reply) => {
      await registry.register(sessionOf(request), channel, request.body);
      reply.code(201);
      return success;
    },
  );

  app.get(
    path,
    {
      onRequest,
      schema: {
        ...common,
        summary: `List the caller's ${name} tokens`,
        response: { 200: Type.Array(RegistrationResponse), ...authErrors },
      },
    },
    async (request) => registry.list(sessionOf(request), channel),
  );

  app.delete(
    path,
    {
      onRequest,
      schema: {
        ...common,
        summary: `Delete all of the caller's ${name} rows`,
        response: { 200: DeleteAllResponse, ...authErrors },
      },
    },
    async (request) => ({ ...success, deleted: await registry.removeAll(sessionOf(request), channel) }),
  );
}

/** Change or delete one of the caller's rows. */
function rowRoutes(
  app: TypedApp,
  registry: RegistryService,
  onRequest: onRequestHookHandler,
  { channel, path, name }: (typeof channels)[number],
): void {
  const common = { security: tokenSecurity, tags: ['push tokens'] };
  app.put(
    `${path}/:seq`,
    {
      onRequest,
      schema: {
        ...common,
        summary: `Change the push_token or language of one ${name} row`,
        params: SeqParams,
        body: RegistrationUpdateBody,
        response: { 200: SuccessBody, 404: ErrorBody, ...authErrors, ...commonErrors },
      },
    },
    async (request) => {
      await registry.update(sessionOf(request), channel, Number(request.params.seq), request.body);
      return success;
    },
  );

  app.delete(
    `${path}/:seq`,
    {
      onRequest,
      schema: {
        ...common,
        summary: `Delete one ${name} row`,
        params: SeqParams,
        response: { 200: SuccessBody, 404: ErrorBody, ...authErrors, 400: ErrorBody },
      },
    },
    async (request) => {
      await registry.remove(sessionOf(request), channel, Number(request.params.seq));
      return success;
    },
  );
}
