/** Push Kit's answers: its error bodies by code, and the OAuth server's refusals. */
import { codeField } from './fake-values.js';
import type { RawAnswer } from './https-fake.js';

const pushKit = (status: number, code: string, msg: string, headers?: Record<string, string>): RawAnswer => ({
  status,
  body: JSON.stringify({ code, msg, requestId: '0' }),
  ...(headers !== undefined ? { headers } : {}),
});

/** Push Kit's error answers, by code (and FLOW_CONTROL: HTTP 503 without a body code). */
export const FAKE_HUAWEI_ERRORS = {
  '80100001': pushKit(400, '80100001', 'Some request parameters are incorrect.'),
  '80100002': pushKit(
    400,
    '80100002',
    'The number of tokens must be 1 when a message is sent in synchronous mode.',
  ),
  '80100003': pushKit(400, '80100003', 'Incorrect message structure.'),
  '80100004': pushKit(400, '80100004', 'The message expiration time is earlier than the current time.'),
  '80100013': pushKit(400, '80100013', 'The collapse_key field is invalid.'),
  '80100016': pushKit(400, '80100016', 'The message contains sensitive information.'),
  '80100017': pushKit(400, '80100017', 'A maximum of 100 topic-based messages can be sent at the same time.'),
  '80100018': pushKit(
    400,
    '80100018',
    'The signature of the message body reviewed by a third party is incorrect.',
  ),
  '80200001': pushKit(401, '80200001', 'Oauth authentication error.'),
  '80200003': pushKit(401, '80200003', 'Oauth Token expired.'),
  '80300002': pushKit(403, '80300002', 'The current app does not have the permission to send messages.'),
  '80300007': pushKit(400, '80300007', 'All tokens are invalid.'),
  '80300008': pushKit(400, '80300008', 'The message body size exceeds the default value.'),
  '80300010': pushKit(400, '80300010', 'The number of tokens in the message body exceeds the default value.'),
  '80300011': pushKit(403, '80300011', 'You do not have the permission to send high-priority messages.'),
  '80300013': pushKit(400, '80300013', 'The receipt URL is invalid.'),
  '80600003': pushKit(401, '80600003', 'Failed to request the OAuth service.'),
  '81000001': pushKit(500, '81000001', 'System internal error.'),
  FLOW_CONTROL: { status: 503, body: 'Service Unavailable', headers: { 'retry-after': '60' } },
} as const satisfies Record<string, RawAnswer>;

export type FakeHuaweiErrorName = keyof typeof FAKE_HUAWEI_ERRORS;

export function parseCode(body: string): string | undefined {
  const code = codeField(body);
  return typeof code === 'string' ? code : undefined;
}

export function oauthError(error: number, subError: number, description: string): RawAnswer {
  return {
    status: 400,
    body: JSON.stringify({ sub_error: subError, error_description: description, error }),
  };
}
