import { Type } from 'typebox';
import { Language } from '../http/schemas.js';

const Text = (maxLength: number, description: string) => Type.String({ maxLength, description });

export const LocalizedText = Type.Object({
  title: Type.Optional(Text(256, 'title in this language')),
  body: Type.Optional(Text(2048, 'body in this language')),
});

export const SendBody = Type.Object({
  channel: Type.Union([Type.Literal('ring'), Type.Literal('message')], {
    description:
      'ring: a doorbell press (VoIP / high priority, short TTL); message: an ordinary notification',
  }),
  users: Type.Array(Type.Integer({ minimum: 1 }), {
    minItems: 1,
    maxItems: 100_000,
    description: 'user ids',
  }),
  bundleid: Type.Optional(
    Type.String({ minLength: 1, maxLength: 155, description: 'only this app’s registrations' }),
  ),
  title: Type.Optional(Text(256, 'default title')),
  body: Type.Optional(Text(2048, 'default body')),
  localized: Type.Optional(
    Type.Record(Language, LocalizedText, {
      description: 'texts per language; each phone gets its best match',
    }),
  ),
  data: Type.Optional(
    Type.Record(Type.String({ minLength: 1, maxLength: 64 }), Type.String({ maxLength: 1024 }), {
      description: 'string → string, passed to the app',
      maxProperties: 32,
    }),
  ),
  ttl: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: 28 * 24 * 3600,
      description: 'seconds; default 30 for a ring, 86400 for a message',
    }),
  ),
  collapse_id: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 64,
      description: 'replaces an earlier notification with the same id',
    }),
  ),
  sound: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  badge: Type.Optional(Type.Integer({ minimum: 0, maximum: 99_999 })),
  idempotency_key: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 128,
      description: 'the same key within 24 h returns the same notification',
    }),
  ),
});

export const SendResponse = Type.Object({
  id: Type.String(),
  targets: Type.Integer({ description: 'deliveries created, one per phone registration' }),
});

export const NotificationParams = Type.Object({ id: Type.String({ pattern: '^[0-9a-f-]{36}$' }) });

export const DeliveryRecord = Type.Object({
  id: Type.String({ description: 'the delivery id, also the apns-id' }),
  user_id: Type.Integer(),
  provider: Type.String(),
  token: Type.String({ description: 'shortened' }),
  bundleid: Type.String(),
  status: Type.Union([
    Type.Literal('queued'),
    Type.Literal('sent'),
    Type.Literal('retrying'),
    Type.Literal('failed'),
    Type.Literal('invalid_token'),
    Type.Literal('expired'),
    Type.Literal('no_route'),
  ]),
  reason: Type.Union([Type.String(), Type.Null()]),
  attempts: Type.Integer(),
  provider_message_id: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.Integer({ description: 'Unix ms' }),
  updated_at: Type.Integer({ description: 'Unix ms' }),
  sent_at: Type.Union([Type.Integer(), Type.Null()]),
});

export const NotificationResponse = Type.Object({
  id: Type.String(),
  kind: Type.Union([Type.Literal('send'), Type.Literal('cancel')]),
  channel: Type.Union([Type.Literal('ring'), Type.Literal('message')]),
  state: Type.Union([Type.Literal('pending'), Type.Literal('done'), Type.Literal('cancelled')]),
  parent_id: Type.Union([Type.String(), Type.Null()]),
  targets: Type.Integer(),
  counts: Type.Record(Type.String(), Type.Integer(), { description: 'deliveries by status' }),
  created_at: Type.Integer(),
  expires_at: Type.Integer(),
  cancelled_at: Type.Union([Type.Integer(), Type.Null()]),
  deliveries: Type.Array(DeliveryRecord),
  next: Type.Optional(Type.String({ description: 'pass as `after` for the next page' })),
});

export const DeliveriesPage = Type.Object({
  after: Type.Optional(Type.String({ maxLength: 36 })),
  limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })),
});

export const InboxPage = Type.Object({
  before: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$' })),
  limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })),
});

export const InboxEntries = Type.Array(
  Type.Object({
    id: Type.Integer(),
    delivery_id: Type.String(),
    notification_id: Type.String(),
    provider: Type.String(),
    request: Type.Unknown(),
    created_at: Type.Integer(),
  }),
);
