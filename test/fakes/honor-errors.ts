/** Honor's answers: its failure bodies by name, and how a scripted answer becomes one. */
import { codeField } from './fake-values.js';
import type { FakeHonorAnswer } from './honor-types.js';
import type { RawAnswer } from './https-fake.js';

const honorError = (status: number, code: number, message: string): RawAnswer => ({
  status,
  body: JSON.stringify({ code, message }),
});

/** Honor's failure answers, by name (the Huawei-family codes of reference/providers.md §3.4). */
export const FAKE_HONOR_ERRORS = {
  PARAMETER_ERROR: honorError(400, 80100001, 'Some request parameters are incorrect'),
  ILLEGAL_PAYLOAD: honorError(400, 80100003, 'Illegal payload'),
  TTL_EXPIRED: honorError(400, 80100004, 'The message TTL is earlier than the current time'),
  SENSITIVE_CONTENT: honorError(400, 80100016, 'The message contains sensitive information'),
  TOO_MANY_TASKS: honorError(200, 80100017, 'Too many tasks are being sent at the same time'),
  OAUTH_ERROR: honorError(401, 80200001, 'Oauth authentication error'),
  OAUTH_TOKEN_EXPIRED: honorError(401, 80200003, 'Oauth Token expired'),
  APP_FORBIDDEN: honorError(403, 80300002, 'The current app is forbidden to send messages'),
  ALL_TOKENS_INVALID: honorError(400, 80300007, 'All tokens are invalid'),
  BODY_TOO_LARGE: honorError(400, 80300008, 'The message body size exceeds the default value'),
  TOKEN_COUNT: honorError(400, 80300010, 'The number of tokens in the message body is out of range'),
  NO_RIGHT: honorError(403, 80300011, 'No permission to send messages of this importance or category'),
  OAUTH_SERVER_ERROR: honorError(401, 80600003, 'Request OAuth service failed'),
  INTERNAL: honorError(500, 81000001, 'Internal error'),
  /** A daily quota; the code is a stand-in (Honor's is not in our sources), the wording Honor's kind. */
  QUOTA_EXCEEDED: honorError(200, 80300009, 'The number of messages sent today exceeds the daily limit'),
  FLOW_CONTROL: {
    status: 503,
    body: JSON.stringify({ message: 'Flow control, please try again later' }),
    headers: { 'retry-after': '30' },
  },
  RATE_LIMITED: {
    status: 429,
    body: JSON.stringify({ message: 'Too Many Requests' }),
    headers: { 'retry-after': '10' },
  },
} as const satisfies Record<string, RawAnswer>;

export type FakeHonorErrorName = keyof typeof FAKE_HONOR_ERRORS;

export function oauthError(status: number, error: string, description: string): RawAnswer {
  return { status, body: JSON.stringify({ error, error_description: description }) };
}

export function cannedOf(
  answer: Exclude<FakeHonorAnswer, 'hang' | 'reset' | { delayMs: number }>,
): RawAnswer {
  if (answer === 'ok') return { status: 200, body: JSON.stringify({ code: 200, message: 'success' }) };
  if (typeof answer === 'string') return FAKE_HONOR_ERRORS[answer];
  if ('error' in answer) {
    const base: RawAnswer = FAKE_HONOR_ERRORS[answer.error];
    const headers = { ...base.headers };
    if (answer.retryAfter !== undefined) headers['retry-after'] = String(answer.retryAfter);
    return { ...base, headers };
  }
  return answer;
}

export function statusOf(answer: FakeHonorAnswer): number {
  if (answer === 'hang' || answer === 'reset') return 0;
  if (typeof answer === 'object' && 'delayMs' in answer) return statusOf(answer.answer);
  return cannedOf(answer).status;
}

export function codeOf(answer: FakeHonorAnswer): number | undefined {
  if (answer === 'hang' || answer === 'reset') return undefined;
  if (typeof answer === 'object' && 'delayMs' in answer) return codeOf(answer.answer);
  const code = codeField(cannedOf(answer).body);
  return typeof code === 'number' ? code : undefined;
}
