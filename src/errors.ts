/**
 * The one error catalogue. `message` keeps the wording of the Lancens manual, which real
 * clients compare against; `code` is Bellhop's stable machine-readable name.
 */
const catalogue = {
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
  /** A third-party login or bind whose token, code or identity the provider (or our check of it) refused. */
  INVALID_PROVIDER_TOKEN: { status: 401, message: 'invalid {field}' },
  /** The third-party identity is bound to another user. */
  IDENTITY_TAKEN: { status: 409, message: '{field} account bound to another user' },
  /** The caller already has another identity of that provider. */
  PROVIDER_ALREADY_BOUND: { status: 409, message: '{field} already bound' },
  LAST_LOGIN_METHOD: { status: 409, message: 'cannot unbind the last way to log in' },
  RECENT_LOGIN_REQUIRED: { status: 403, message: 'log in again to delete the account' },
  PROVIDER_NOT_CONFIGURED: { status: 501, message: '{field} login is not configured' },
  PROVIDER_UNAVAILABLE: { status: 503, message: '{field} is unavailable' },
  ROUTE_NOT_FOUND: { status: 404, message: 'no func' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'method not allowed' },
  BODY_TOO_LARGE: { status: 413, message: 'body too large' },
  /** The request (headers and body) did not arrive in time. */
  REQUEST_TIMEOUT: { status: 408, message: 'request timeout' },
  HEADERS_TOO_LARGE: { status: 431, message: 'headers too large' },
  UPGRADE_REQUIRED: { status: 426, message: 'websocket upgrade required' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'content-type error' },
  RATE_LIMITED: { status: 429, message: 'too many requests' },
  SERVICE_UNAVAILABLE: { status: 503, message: 'service unavailable' },
  INTERNAL: { status: 500, message: 'server error' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof catalogue;

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
    const entry = catalogue[code];
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
