/**
 * The one error catalogue. `message` keeps the wording of the Lancens manual, which real
 * clients compare against; `code` is Bellhop's stable machine-readable name; `when` says when
 * it is answered (docs/errors.md is generated from it: `npm run docs:errors`).
 */
export const errorCatalogue = {
  NO_TOKEN: { status: 401, message: 'no token', when: 'a user call without a login token' },
  INVALID_TOKEN: {
    status: 401,
    message: 'invalid token',
    when: 'the login token is unknown, expired or its session ended',
  },
  FIELD_MISSING: { status: 400, message: 'undefined {field}', when: 'a required field is absent' },
  FIELD_LENGTH: { status: 400, message: '{field} length error', when: 'a field is too short or too long' },
  FIELD_FORMAT: { status: 400, message: '{field} format error', when: 'a field has the wrong type' },
  FIELD_INVALID: {
    status: 400,
    message: '{field} error',
    when: 'a field breaks another rule of its schema (pattern, range, enumeration)',
  },
  MALFORMED_BODY: {
    status: 400,
    message: 'paramer error',
    when: 'the body is not JSON, or not an object where one is expected',
  },
  BAD_CREDENTIALS: {
    status: 401,
    message: 'username or password error',
    when: 'a login with an unknown name or a wrong password',
  },
  WRONG_PASSWORD: {
    status: 403,
    message: 'password error',
    when: 'the current password given to change the password or delete the account is wrong',
  },
  INVALID_REFLASH_KEY: {
    status: 401,
    message: 'invalid reflash_key',
    when: 'the `reflash_key` is unknown, expired or already used',
  },
  NO_API_KEY: {
    status: 401,
    message: 'no api key',
    when: 'a server call without `Authorization: Bearer <key>`',
  },
  INVALID_API_KEY: { status: 401, message: 'invalid api key', when: 'the API key is unknown or revoked' },
  INVALID_CREDENTIALS: {
    status: 400,
    message: '{field} error',
    when: "an app's provider credentials are unusable (`<field>` names the provider and the problem)",
  },
  NOT_A_RING: {
    status: 409,
    message: 'only a ring can be cancelled',
    when: 'a cancel of a notification that is not a ring',
  },
  FORBIDDEN: {
    status: 403,
    message: '{field} error',
    when: "another user's `id` in a registration, or an API key without the scope the call needs",
  },
  USERNAME_EXISTS: { status: 409, message: 'username exist', when: 'the user name is taken' },
  EMAIL_EXISTS: { status: 409, message: 'email exist', when: 'the e-mail address is taken' },
  PHONE_EXISTS: { status: 409, message: 'phone exist', when: 'the phone number is taken' },
  NOT_FOUND: {
    status: 404,
    message: 'no data error',
    when: "the row does not exist (another user's `seq` included)",
  },
  INVALID_PROVIDER_TOKEN: {
    status: 401,
    message: 'invalid {field}',
    when: 'a third-party login or bind whose token, code or identity the provider (or our check) refused',
  },
  IDENTITY_TAKEN: {
    status: 409,
    message: '{field} account bound to another user',
    when: 'the third-party identity is bound to another user',
  },
  PROVIDER_ALREADY_BOUND: {
    status: 409,
    message: '{field} already bound',
    when: 'the caller already has another identity of that provider',
  },
  LAST_LOGIN_METHOD: {
    status: 409,
    message: 'cannot unbind the last way to log in',
    when: "unbinding the user's only way to log in",
  },
  RECENT_LOGIN_REQUIRED: {
    status: 403,
    message: 'log in again to delete the account',
    when: 'a user without a password deletes the account from a session that is too old',
  },
  PROVIDER_NOT_CONFIGURED: {
    status: 501,
    message: '{field} login is not configured',
    when: 'a third-party login whose provider this deployment has not configured',
  },
  PROVIDER_UNAVAILABLE: {
    status: 503,
    message: '{field} is unavailable',
    when: 'the login provider is down, slow, or refuses our app credentials',
  },
  ROUTE_NOT_FOUND: { status: 404, message: 'no func', when: 'no route has this method and path' },
  BODY_TOO_LARGE: {
    status: 413,
    message: 'body too large',
    when: 'the body is over `BODY_LIMIT_BYTES` (`PUSH_BODY_LIMIT_BYTES` for `POST /v1/push`)',
  },
  UPGRADE_REQUIRED: {
    status: 426,
    message: 'websocket upgrade required',
    when: '`GET /v1/channel` without a WebSocket upgrade',
  },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    message: 'content-type error',
    when: 'a body that is not `application/json`',
  },
  RATE_LIMITED: {
    status: 429,
    message: 'too many requests',
    when: 'a brute-force budget is spent; `Retry-After` says when to try again',
  },
  SERVICE_UNAVAILABLE: {
    status: 503,
    message: 'service unavailable',
    when: '`/readyz` while the database (or Redis) does not answer; a write that kept racing others (retry)',
  },
  INTERNAL: { status: 500, message: 'server error', when: 'anything unexpected (details only in the log)' },
} as const satisfies Record<string, { status: number; message: string; when: string }>;

export type ErrorCode = keyof typeof errorCatalogue;

export interface AppErrorOptions {
  /** Fills `{field}` in the catalogue message. */
  field?: string;
  /** Seconds until the client may try again (sent as `Retry-After`). */
  retryAfterSeconds?: number;
  cause?: unknown;
}

export class AppError extends Error {
  override name = 'AppError';
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, options: AppErrorOptions = {}) {
    const entry = errorCatalogue[code];
    super(entry.message.replace('{field}', options.field ?? 'paramer'), { cause: options.cause });
    this.code = code;
    this.status = entry.status;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export function errorBody(
  code: ErrorCode,
  field?: string,
  message = new AppError(code, field === undefined ? {} : { field }).message,
): { message: string; code: ErrorCode } {
  return { message, code };
}
