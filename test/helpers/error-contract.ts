import type { LightMyRequestResponse } from 'fastify';
import type { ErrorCode } from '../../src/errors.js';

/**
 * The status and wording of every error code, written out from the product's design rather
 * than read from src/errors.ts, so that a change of wording there fails the tests. `{field}`
 * stands for the field name. `satisfies` keeps the list complete when a code is added.
 */
export const errorContract = {
  NO_TOKEN: { status: 401, message: 'no token' },
  INVALID_TOKEN: { status: 401, message: 'invalid token' },
  FIELD_MISSING: { status: 400, message: 'undefined {field}' },
  FIELD_LENGTH: { status: 400, message: '{field} length error' },
  FIELD_FORMAT: { status: 400, message: '{field} format error' },
  FIELD_INVALID: { status: 400, message: '{field} error' },
  MALFORMED_BODY: { status: 400, message: 'paramer error' },
  BAD_CREDENTIALS: { status: 401, message: 'username or password error' },
  WRONG_PASSWORD: { status: 403, message: 'password error' },
  INVALID_REFLASH_KEY: { status: 401, message: 'invalid reflash_key' },
  NO_API_KEY: { status: 401, message: 'no api key' },
  INVALID_API_KEY: { status: 401, message: 'invalid api key' },
  INVALID_CREDENTIALS: { status: 400, message: '{field} error' },
  NOT_A_RING: { status: 409, message: 'only a ring can be cancelled' },
  FORBIDDEN: { status: 403, message: '{field} error' },
  USERNAME_EXISTS: { status: 409, message: 'username exist' },
  EMAIL_EXISTS: { status: 409, message: 'email exist' },
  PHONE_EXISTS: { status: 409, message: 'phone exist' },
  NOT_FOUND: { status: 404, message: 'no data error' },
  INVALID_PROVIDER_TOKEN: { status: 401, message: 'invalid {field}' },
  IDENTITY_TAKEN: { status: 409, message: '{field} account bound to another user' },
  PROVIDER_ALREADY_BOUND: { status: 409, message: '{field} already bound' },
  LAST_LOGIN_METHOD: { status: 409, message: 'cannot unbind the last way to log in' },
  RECENT_LOGIN_REQUIRED: { status: 403, message: 'log in again to delete the account' },
  PROVIDER_NOT_CONFIGURED: { status: 501, message: '{field} login is not configured' },
  PROVIDER_UNAVAILABLE: { status: 503, message: '{field} is unavailable' },
  ROUTE_NOT_FOUND: { status: 404, message: 'no func' },
  BODY_TOO_LARGE: { status: 413, message: 'body too large' },
  UPGRADE_REQUIRED: { status: 426, message: 'websocket upgrade required' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'content-type error' },
  RATE_LIMITED: { status: 429, message: 'too many requests' },
  SERVICE_UNAVAILABLE: { status: 503, message: 'service unavailable' },
  INTERNAL: { status: 500, message: 'server error' },
} as const satisfies Record<ErrorCode, { status: number; message: string }>;

export interface ErrorBody {
  message: string;
  code: string;
}

export interface ExpectedError {
  status: number;
  body: ErrorBody;
}

export function expectedError(code: ErrorCode, field?: string): ExpectedError {
  const { status, message } = errorContract[code];
  if (message.includes('{field}') !== (field !== undefined)) {
    throw new Error(`${code}: a field name is ${field === undefined ? 'needed' : 'not expected'}`);
  }
  return { status, body: { message: message.replace('{field}', field ?? ''), code } };
}

function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(errorContract, code);
}

/**
 * Checks that an error response keeps the contract: a JSON body of exactly `{message, code}`,
 * a catalogue code whose status is the one sent, and the catalogue wording (any field name in
 * place of `{field}`). Throws a readable error otherwise. `tolerated` lists framework codes
 * (with their status) that are known to bypass the catalogue.
 */
export function assertErrorResponse(
  response: LightMyRequestResponse,
  tolerated: Readonly<Record<string, number>> = {},
): ErrorBody {
  const where = `${response.statusCode} ${JSON.stringify(response.body.slice(0, 300))}`;
  const contentType = String(response.headers['content-type'] ?? '');
  if (!contentType.startsWith('application/json')) throw new Error(`not JSON (${contentType}): ${where}`);
  let body: unknown;
  try {
    body = JSON.parse(response.body);
  } catch {
    throw new Error(`unparsable JSON: ${where}`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new Error(`not an object: ${where}`);
  const { message, code } = body as Record<string, unknown>;
  if (typeof message !== 'string' || typeof code !== 'string') throw new Error(`no message/code: ${where}`);
  if (tolerated[code] === response.statusCode) return { message, code };
  const keys = Object.keys(body).sort();
  if (keys.join() !== 'code,message') throw new Error(`extra keys ${keys.join()}: ${where}`);
  if (!isErrorCode(code)) throw new Error(`code outside the catalogue: ${where}`);
  const entry = errorContract[code];
  if (entry.status !== response.statusCode) throw new Error(`${code} must be ${entry.status}: ${where}`);
  const [before = '', after = ''] = entry.message.split('{field}');
  const wording = entry.message.includes('{field}')
    ? message.startsWith(before) && message.endsWith(after) && message.length > before.length + after.length
    : message === entry.message;
  if (!wording) throw new Error(`${code} must read "${entry.message}": ${where}`);
  return { message, code };
}
