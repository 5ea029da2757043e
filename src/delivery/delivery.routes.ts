import { type ApiKeyVerifier, apiKeyOf, requireApiKey } from '../http/api-key-auth.js';
import { BundleParams, commonErrors, ErrorBody } from '../http/schemas.js';
import type { TypedApp } from '../http/typed-app.js';
import {
  DeliveriesPage,
  InboxEntries,
  InboxPage,
  NotificationParams,
  NotificationResponse,
  SendBody,
  SendResponse,
} from './delivery.schemas.js';
import type { DeliveryService } from './delivery.service.js';
import type { InboxService } from './inbox.service.js';

const security = [{ apiKey: [] }];
const tags = ['push'];
const keyErrors = { 401: ErrorBody, 403: ErrorBody } as const;

export function deliveryRoutes(
  app: TypedApp,
  apiKeys: ApiKeyVerifier<'send'>,
  delivery: DeliveryService,
  bodyLimit: number,
): void {
  const onRequest = requireApiKey(apiKeys, 'send');

  app.post(
    '/v1/push',
    {
      onRequest,
      bodyLimit,
      schema: {
        tags,
        security,
        summary: 'Send a ring or a message to every phone of some users',
        description:
          'Fans out to every registration of the users on the channel. Registrations that cannot be sent to still get a delivery record (`no_route`, `failed: app_not_configured`).',
        body: SendBody,
        response: { 202: SendResponse, ...keyErrors, ...commonErrors },
      },
    },
    async (request, reply) => {
      const result = await delivery.send(request.body, apiKeyOf(request).id);
      return reply.code(202).send({ id: result.id, targets: result.targets });
    },
  );

  app.get(
    '/v1/push/:id',
    {
      onRequest,
      schema: {
        tags,
        security,
        summary: 'What happened to a notification on every phone',
        params: NotificationParams,
        querystring: DeliveriesPage,
        response: { 200: NotificationResponse, 404: ErrorBody, ...keyErrors, 400: ErrorBody },
      },
    },
    async (request) =>
      delivery.get(request.params.id, {
        after: request.query.after,
        limit: Math.min(5000, Math.max(1, Number(request.query.limit ?? 1000))),
      }),
  );

  app.post(
    '/v1/push/:id/cancel',
    {
      onRequest,
      schema: {
        tags,
        security,
        summary: 'Stop a ring ("answered on another phone")',
        description:
          'Phones the ring reached get a cancel (same collapse id, data `type: cancel`, `ring_id`); deliveries not yet made are called off.',
        params: NotificationParams,
        response: { 202: SendResponse, 404: ErrorBody, 409: ErrorBody, ...keyErrors, 400: ErrorBody },
      },
    },
    async (request, reply) => reply.code(202).send(await delivery.cancel(request.params.id)),
  );
}

/** An admin's view of what apps in inbox mode captured instead of sending. */
export function inboxRoutes(app: TypedApp, apiKeys: ApiKeyVerifier<'admin'>, inbox: InboxService): void {
  app.get(
    '/v1/admin/apps/:bundleid/inbox',
    {
      onRequest: requireApiKey(apiKeys, 'admin'),
      schema: {
        tags: ['admin'],
        security,
        summary: 'Deliveries captured in inbox mode, newest first, with the exact provider request',
        params: BundleParams,
        querystring: InboxPage,
        response: { 200: InboxEntries, 404: ErrorBody, ...keyErrors, 400: ErrorBody },
      },
    },
    async (request) =>
      inbox.list(request.params.bundleid, {
        before: request.query.before === undefined ? undefined : Number(request.query.before),
        limit: Math.min(1000, Math.max(1, Number(request.query.limit ?? 100))),
      }),
  );
}
