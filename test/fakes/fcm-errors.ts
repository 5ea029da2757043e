/**
 * The error answers the fake FCM gives, with the bodies FCM really sends
 * (reference/providers.md §2.4).
 */
import type { FakeFcmAnswer } from './fcm-types.js';
import type { RawAnswer } from './https-fake.js';

const FCM_ERROR = 'type.googleapis.com/google.firebase.fcm.v1.FcmError';
export const BAD_REQUEST = 'type.googleapis.com/google.rpc.BadRequest';

export function googleError(code: number, status: string, message: string, details?: unknown[]): string {
  return JSON.stringify(
    { error: { code, message, status, ...(details !== undefined ? { details } : {}) } },
    null,
    2,
  );
}

export const fcmError = (errorCode: string) => ({ '@type': FCM_ERROR, errorCode });
export const invalidTokenText = 'The registration token is not a valid FCM registration token';
const unauthenticatedText =
  'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.';
export const missingCredentialText =
  'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.';
export const wwwAuthenticate = {
  'www-authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"',
};

/** The answers FCM really gives, by name (reference/providers.md §2.4). */
export const FAKE_FCM_ERRORS = {
  /** The app was uninstalled or the token expired (270 days inactive). */
  UNREGISTERED: {
    status: 404,
    body: googleError(404, 'NOT_FOUND', 'Requested entity was not found.', [fcmError('UNREGISTERED')]),
  },
  /** A malformed token: INVALID_ARGUMENT with a BadRequest violation on `message.token`. */
  INVALID_TOKEN: {
    status: 400,
    body: googleError(400, 'INVALID_ARGUMENT', invalidTokenText, [
      fcmError('INVALID_ARGUMENT'),
      { '@type': BAD_REQUEST, fieldViolations: [{ field: 'message.token', description: invalidTokenText }] },
    ]),
  },
  /** Our payload is wrong. */
  INVALID_ARGUMENT: {
    status: 400,
    body: googleError(
      400,
      'INVALID_ARGUMENT',
      'Invalid value at \'message.android.ttl\' (type.googleapis.com/google.protobuf.Duration), "soon"',
      [
        fcmError('INVALID_ARGUMENT'),
        {
          '@type': BAD_REQUEST,
          fieldViolations: [
            {
              field: 'message.android.ttl',
              description:
                'Invalid value at \'message.android.ttl\' (type.googleapis.com/google.protobuf.Duration), "soon"',
            },
          ],
        },
      ],
    ),
  },
  /** The token belongs to another Firebase project. */
  SENDER_ID_MISMATCH: {
    status: 403,
    body: googleError(403, 'PERMISSION_DENIED', 'SenderId mismatch', [fcmError('SENDER_ID_MISMATCH')]),
  },
  QUOTA_EXCEEDED: {
    status: 429,
    body: googleError(
      429,
      'RESOURCE_EXHAUSTED',
      "Quota exceeded for quota metric 'Send requests' and limit 'Send requests per minute' of service 'fcm.googleapis.com' for consumer 'project_number:100000000001'.",
      [fcmError('QUOTA_EXCEEDED')],
    ),
    headers: { 'retry-after': '60' },
  },
  UNAVAILABLE: {
    status: 503,
    body: googleError(503, 'UNAVAILABLE', 'The service is currently unavailable.', [fcmError('UNAVAILABLE')]),
  },
  INTERNAL: {
    status: 500,
    body: googleError(500, 'INTERNAL', 'Internal error encountered.', [fcmError('INTERNAL')]),
  },
  /** The APNs / Web Push credentials uploaded to Firebase are wrong (not our OAuth token). */
  THIRD_PARTY_AUTH_ERROR: {
    status: 401,
    body: googleError(401, 'UNAUTHENTICATED', 'Auth error from APNS or Web Push Service', [
      fcmError('THIRD_PARTY_AUTH_ERROR'),
    ]),
  },
  /** Our access token is refused: no FCM detail. */
  UNAUTHENTICATED: {
    status: 401,
    body: googleError(401, 'UNAUTHENTICATED', unauthenticatedText),
    headers: wwwAuthenticate,
  },
  /** The service account may not send for this project (IAM): no FCM detail. */
  PERMISSION_DENIED: {
    status: 403,
    body: googleError(
      403,
      'PERMISSION_DENIED',
      "Permission 'cloudmessaging.messages.create' denied on resource '//cloudresourcemanager.googleapis.com/projects/bellhop-test' (or it may not exist).",
      [
        {
          '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
          reason: 'IAM_PERMISSION_DENIED',
          domain: 'cloudresourcemanager.googleapis.com',
          metadata: { permission: 'cloudmessaging.messages.create' },
        },
      ],
    ),
  },
} as const satisfies Record<string, RawAnswer>;

export type FakeFcmErrorName = keyof typeof FAKE_FCM_ERRORS;

export function statusOf(answer: FakeFcmAnswer, ok: number): number {
  if (answer === 'ok') return ok;
  if (answer === 'hang' || answer === 'reset') return 0;
  if (typeof answer === 'string') return FAKE_FCM_ERRORS[answer].status;
  if ('delayMs' in answer) return statusOf(answer.answer, ok);
  if ('error' in answer) return FAKE_FCM_ERRORS[answer.error].status;
  return answer.status;
}
