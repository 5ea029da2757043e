import { Type } from 'typebox';
import { Language } from '../http/schemas.js';

const printable = '^[\\x21-\\x7E]+$';
const optionalText = (maxLength: number, pattern: string, description: string) =>
  Type.Optional(Type.Union([Type.String({ maxLength, pattern }), Type.Null()], { description }));

export const PushToken = Type.String({
  minLength: 1,
  maxLength: 512,
  pattern: printable,
  description: 'the phone’s push token for this channel (APNs/VoIP, FCM, or an app’s own channel token)',
});

/** Table 1 of the manual; unknown fields (e.g. `os_push_version`) are ignored. */
export const RegistrationBody = Type.Object({
  push_token: PushToken,
  language: Language,
  id: Type.Optional(
    Type.Integer({ minimum: 0, description: 'the caller’s user id; when present and not 0 it must match' }),
  ),
  dev: Type.Optional(
    Type.Integer({ minimum: 0, maximum: 1, description: 'iOS: 1 = APNs sandbox, 0 = production' }),
  ),
  bundleid: optionalText(
    155,
    '^([A-Za-z0-9][A-Za-z0-9._\\-]*)?$',
    'the app; absent = the deployment default',
  ),
  os: optionalText(32, '^[A-Za-z0-9 _.\\-]*$', 'phone system or maker, e.g. iOS, Android, Huawei'),
  os_token: optionalText(512, '^[\\x21-\\x7E]*$', 'the phone maker’s push token'),
  push_platform: optionalText(32, '^[A-Za-z0-9 _.\\-]*$', 'HUAWEI, HONOR, XIAOMI, OPPO, VIVO, MEIZU or FCM'),
  // No control characters, no lone UTF-16 surrogates (UTF-8 cannot store them); the `u` flag is on.
  phone_model: optionalText(128, '^[^\\x00-\\x1F\\x7F\\uD800-\\uDFFF]*$', 'free text, e.g. xiaomi6'),
});

/**
 * At least one of the two fields: a body with neither (`{}`, or only unknown fields such as
 * `{"pushtoken": …}`) would otherwise be a silent no-op answered `success`.
 */
export const RegistrationUpdateBody = Type.Object(
  { push_token: Type.Optional(PushToken), language: Type.Optional(Language) },
  { not: { properties: { push_token: false, language: false } } },
);

export const SeqParams = Type.Object({
  seq: Type.String({ pattern: '^[0-9]{1,15}$', description: 'row number' }),
});

export const RegistrationResponse = Type.Object({
  seq: Type.Integer(),
  id: Type.Integer({ description: 'user id' }),
  push_token: Type.String(),
  language: Type.String(),
  dev: Type.Integer(),
  bundleid: Type.String(),
  os: Type.String(),
  os_token: Type.String(),
  push_platform: Type.String(),
  phone_model: Type.String(),
  provider: Type.String({ description: 'where pushes for this row go: apns, fcm, huawei, … or none' }),
});

export const DeleteAllResponse = Type.Object({ message: Type.Literal('success'), deleted: Type.Integer() });
