/**
 * A fake Firebase Cloud Messaging (HTTP v1) for tests and benchmarks: Google's OAuth2 token
 * endpoint (JWT-bearer grant, RS256 signature checked against the test service account) and
 * the send endpoint, over HTTPS on 127.0.0.1 with a test CA (test/fixtures/fcm/).
 *
 * Errors are answered with the bodies FCM really sends (reference/providers.md §2.4).
 */
import { createPublicKey, type KeyObject, randomBytes, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Clock } from '../../src/clock.js';
import { HttpsFake, TEST_CA } from './https-fake.js';
import { type HttpsListener, listenHttps } from './https-listener.js';

const fixtures = new URL('../fixtures/fcm/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, fixtures), 'utf8');

/** The test CA: trust it (the credentials' `ca`) to talk to the fake. */
export const FAKE_FCM_CA = TEST_CA;

export interface FakeServiceAccount {
  type: 'service_account';
  project_id: string;
  private_key_id: string;
  private_key: string;
  client_email: string;
  client_id: string;
  auth_uri: string;
  token_uri: string;
  auth_provider_x509_cert_url: string;
  client_x509_cert_url: string;
  universe_domain: string;
  [field: string]: unknown;
}

const SERVICE_ACCOUNT = JSON.parse(fixture('service-account.json')) as FakeServiceAccount;
const SERVICE_ACCOUNT_PUBLIC_KEY: KeyObject = createPublicKey(SERVICE_ACCOUNT.private_key);

/** The test service account (fixture), its `token_uri` pointing where asked (a fake's `tokenUrl`). */
export function fakeServiceAccount(tokenUri: string): FakeServiceAccount {
  return { ...SERVICE_ACCOUNT, token_uri: tokenUri };
}

const FCM_ERROR = 'type.googleapis.com/google.firebase.fcm.v1.FcmError';
const BAD_REQUEST = 'type.googleapis.com/google.rpc.BadRequest';
const FCM_SCOPES = [
  'https://www.googleapis.com/auth/firebase.messaging',
  'https://www.googleapis.com/auth/cloud-platform',
];

interface CannedError {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

function googleError(code: number, status: string, message: string, details?: unknown[]): string {
  return JSON.stringify(
    { error: { code, message, status, ...(details !== undefined ? { details } : {}) } },
    null,
    2,
  );
}

const fcmError = (errorCode: string) => ({ '@type': FCM_ERROR, errorCode });
const invalidTokenText = 'The registration token is not a valid FCM registration token';
const unauthenticatedText =
  'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.';
const missingCredentialText =
  'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.';
const wwwAuthenticate = {
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
} as const satisfies Record<string, CannedError>;

export type FakeFcmErrorName = keyof typeof FAKE_FCM_ERRORS;

/**
 * How the fake answers one request:
 * - `'ok'`: 200 `{"name": "projects/<p>/messages/<n>"}` (for the token endpoint: a token);
 * - an error name, or `{error, retryAfter}` (`retryAfter: null` drops the canned header);
 * - `{status, body, headers}`: anything, e.g. a proxy's HTML 502;
 * - `{delayMs, answer}`: that answer after a delay;
 * - `'hang'`: never answers; `'reset'`: drops the connection.
 */
export type FakeFcmAnswer =
  | 'ok'
  | 'hang'
  | 'reset'
  | FakeFcmErrorName
  | { error: FakeFcmErrorName; retryAfter?: string | number | null }
  | { status: number; body: string; headers?: Record<string, string> }
  | { delayMs: number; answer: FakeFcmAnswer };

/** One request to the send endpoint, as received. */
export interface FakeFcmReceived {
  /** The fake's clock, Unix ms. */
  at: number;
  project: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body (undefined if it did not parse). */
  body: unknown;
  /** `message.token`, when there is one. */
  token: string | undefined;
  /** The status the fake answered (0: `hang` / `reset`). */
  status: number;
  /** Which connection it came on (1, 2, … in TLS handshake order). */
  connection: number;
}

/** One request to the token endpoint. */
export interface FakeFcmTokenRequest {
  at: number;
  /** The assertion's header and claims, when it decoded. */
  header: Record<string, unknown> | undefined;
  claims: Record<string, unknown> | undefined;
  status: number;
  /** The access token issued, if any. */
  accessToken: string | undefined;
}

export interface FakeFcmOptions {
  /** The fake's idea of now (token expiry, assertion checks). Default: the system clock. */
  clock?: Clock;
  /**
   * Lifetime of issued access tokens. Default 3600 s, like Google. Keep it above 300 s: the
   * adapter replaces a token once less than 5 minutes are left.
   */
  tokenLifetimeSeconds?: number;
  /** Added before every send answer (benchmarks). Default 0. */
  latencyMs?: number;
  /** Keep every request in `received` / `tokenRequests`. Default true; off for long benchmarks. */
  record?: boolean;
}

interface FakeFcmEvents {
  request: [FakeFcmReceived];
  token: [FakeFcmTokenRequest];
}

const systemClock: Clock = { now: () => Date.now() };

const camel = (key: string) => key.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
const withCamel = (keys: string[]) => new Set(keys.flatMap((key) => [key, camel(key)]));

const MESSAGE_FIELDS = withCamel([
  'name',
  'data',
  'notification',
  'android',
  'webpush',
  'apns',
  'fcm_options',
  'token',
  'topic',
  'condition',
]);
const NOTIFICATION_FIELDS = withCamel(['title', 'body', 'image']);
const ANDROID_FIELDS = withCamel([
  'collapse_key',
  'priority',
  'ttl',
  'restricted_package_name',
  'data',
  'notification',
  'fcm_options',
  'direct_boot_ok',
  'bandwidth_constrained_ok',
  'restricted_satellite_ok',
]);
const ANDROID_NOTIFICATION_FIELDS = withCamel([
  'title',
  'body',
  'icon',
  'color',
  'sound',
  'tag',
  'click_action',
  'body_loc_key',
  'body_loc_args',
  'title_loc_key',
  'title_loc_args',
  'channel_id',
  'ticker',
  'sticky',
  'event_time',
  'local_only',
  'notification_priority',
  'default_sound',
  'default_vibrate_timings',
  'default_light_settings',
  'vibrate_timings',
  'visibility',
  'notification_count',
  'light_settings',
  'image',
  'bypass_proxy_notification',
  'proxy',
]);
const ANDROID_NOTIFICATION_STRINGS = withCamel([
  'title',
  'body',
  'icon',
  'color',
  'sound',
  'tag',
  'channel_id',
]);

interface Violation {
  field: string;
  description: string;
  /** Semantic checks carry FCM's own detail; JSON-level ones only the BadRequest. */
  fcm: boolean;
}

const objectOf = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;

function unknownField(
  object: Record<string, unknown>,
  allowed: Set<string>,
  path: string,
): Violation | undefined {
  for (const key of Object.keys(object)) {
    if (!allowed.has(key)) {
      const description = `Invalid JSON payload received. Unknown name "${key}" at '${path}': Cannot find field.`;
      return { field: path, description, fcm: false };
    }
  }
  return undefined;
}

function typeViolation(field: string, expected: string, value: unknown): Violation {
  return {
    field,
    description: `Invalid value at '${field}' (${expected}), ${JSON.stringify(value)}`,
    fcm: false,
  };
}

function stringMap(value: unknown, path: string): Violation | undefined {
  const map = objectOf(value);
  if (map === undefined) return typeViolation(path, 'type.googleapis.com/google.protobuf.Struct', value);
  let index = 0;
  for (const [key, entry] of Object.entries(map)) {
    if (typeof entry !== 'string') return typeViolation(`${path}[${index}].value`, 'TYPE_STRING', entry);
    const lower = key.toLowerCase();
    if (
      path === 'message.data' &&
      (lower === 'from' || lower === 'message_type' || /^(google|gcm)/.test(lower))
    ) {
      return { field: path, description: `Invalid data payload key: ${key}`, fcm: true };
    }
    index += 1;
  }
  return undefined;
}

/** The checks FCM makes on a send body, reduced to what our adapter could get wrong. */
function validateSendBody(body: unknown): Violation | undefined {
  const root = objectOf(body);
  if (root === undefined) return { field: '', description: 'Invalid JSON payload received.', fcm: false };
  for (const key of Object.keys(root)) {
    if (key !== 'message' && key !== 'validate_only' && key !== 'validateOnly') {
      return {
        field: '',
        description: `Invalid JSON payload received. Unknown name "${key}": Cannot find field.`,
        fcm: false,
      };
    }
  }
  const message = objectOf(root.message);
  if (message === undefined) return { field: 'message', description: 'Message must be set.', fcm: true };
  const bad = unknownField(message, MESSAGE_FIELDS, 'message');
  if (bad !== undefined) return bad;

  const targets = ['token', 'topic', 'condition'].filter((key) => message[key] !== undefined);
  if (targets.length === 0)
    return { field: 'message', description: 'Recipient of the message is not set.', fcm: true };
  if (targets.length > 1) {
    return {
      field: 'message',
      description: 'Exactly one of token, topic or condition must be set.',
      fcm: true,
    };
  }
  if (message.token !== undefined && typeof message.token !== 'string') {
    return typeViolation('message.token', 'TYPE_STRING', message.token);
  }
  if (message.token === '') return { field: 'message.token', description: invalidTokenText, fcm: true };

  if (message.data !== undefined) {
    const violation = stringMap(message.data, 'message.data');
    if (violation !== undefined) return violation;
  }
  let size = 0;
  for (const [key, value] of Object.entries(objectOf(message.data) ?? {}))
    size += key.length + String(value).length;

  if (message.notification !== undefined) {
    const notification = objectOf(message.notification);
    if (notification === undefined)
      return typeViolation('message.notification', 'TYPE_MESSAGE', message.notification);
    const unknown = unknownField(notification, NOTIFICATION_FIELDS, 'message.notification');
    if (unknown !== undefined) return unknown;
    for (const [key, value] of Object.entries(notification)) {
      if (typeof value !== 'string')
        return typeViolation(`message.notification.${key}`, 'TYPE_STRING', value);
      size += value.length;
    }
  }

  if (message.android !== undefined) {
    const android = objectOf(message.android);
    if (android === undefined) return typeViolation('message.android', 'TYPE_MESSAGE', message.android);
    const unknown = unknownField(android, ANDROID_FIELDS, 'message.android');
    if (unknown !== undefined) return unknown;
    const ttl = android.ttl;
    if (ttl !== undefined) {
      if (typeof ttl !== 'string' || !/^\d+(\.\d{1,9})?s$/.test(ttl)) {
        return typeViolation('message.android.ttl', 'type.googleapis.com/google.protobuf.Duration', ttl);
      }
      if (Number.parseFloat(ttl) > 28 * 24 * 3600) {
        return { field: 'message.android.ttl', description: 'TTL must not exceed 4 weeks.', fcm: true };
      }
    }
    const priority = android.priority;
    if (priority !== undefined && (typeof priority !== 'string' || !/^(normal|high)$/i.test(priority))) {
      return typeViolation('message.android.priority', 'TYPE_ENUM', priority);
    }
    const collapseKey = android.collapse_key ?? android.collapseKey;
    if (collapseKey !== undefined && typeof collapseKey !== 'string') {
      return typeViolation('message.android.collapse_key', 'TYPE_STRING', collapseKey);
    }
    if (android.data !== undefined) {
      const violation = stringMap(android.data, 'message.android.data');
      if (violation !== undefined) return violation;
    }
    if (android.notification !== undefined) {
      const notification = objectOf(android.notification);
      if (notification === undefined) {
        return typeViolation('message.android.notification', 'TYPE_MESSAGE', android.notification);
      }
      const unknownKey = unknownField(
        notification,
        ANDROID_NOTIFICATION_FIELDS,
        'message.android.notification',
      );
      if (unknownKey !== undefined) return unknownKey;
      for (const [key, value] of Object.entries(notification)) {
        if (ANDROID_NOTIFICATION_STRINGS.has(key) && typeof value !== 'string') {
          return typeViolation(`message.android.notification.${key}`, 'TYPE_STRING', value);
        }
      }
      const count = notification.notification_count ?? notification.notificationCount;
      if (count !== undefined && !Number.isInteger(count)) {
        return typeViolation('message.android.notification.notification_count', 'TYPE_INT32', count);
      }
    }
  }
  if (size > 4096) return { field: 'message', description: 'Android message is too big', fcm: true };
  return undefined;
}

function violationBody(violation: Violation): string {
  const details: unknown[] = violation.fcm ? [fcmError('INVALID_ARGUMENT')] : [];
  details.push({
    '@type': BAD_REQUEST,
    fieldViolations: [{ field: violation.field, description: violation.description }],
  });
  return googleError(400, 'INVALID_ARGUMENT', violation.description, details);
}

function oauthError(error: string, description: string): CannedError {
  return { status: 400, body: JSON.stringify({ error, error_description: description }) };
}

const shortLivedText =
  'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.';

function decodeSegment(segment: string | undefined): Record<string, unknown> | undefined {
  if (segment === undefined) return undefined;
  try {
    return objectOf(JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')));
  } catch {
    return undefined;
  }
}

const connectionIds = new WeakMap<object, number>();

export class FakeFcm extends HttpsFake<FakeFcmAnswer, FakeFcmAnswer, FakeFcmEvents> {
  /** The OAuth2 token endpoint. */
  readonly tokenUrl: string;
  readonly ca = FAKE_FCM_CA;
  /** The test service account, `token_uri` pointing at this fake. */
  readonly serviceAccount: FakeServiceAccount;
  readonly projectId: string;
  /** Every request to the send endpoint, in arrival order. */
  readonly received: FakeFcmReceived[] = [];
  /** Every request to the token endpoint. */
  readonly tokenRequests: FakeFcmTokenRequest[] = [];

  private issued = new Map<string, number>();
  private issuedCount = 0;
  private messageCount = 0;
  private tokenScript: FakeFcmAnswer[] = [];
  private connectionCount = 0;
  private secureCount = 0;
  private openConnections = new Set<Socket>();
  private maxOpen = 0;
  private sendsInFlight = 0;
  private maxSendsInFlight = 0;
  private held: Array<() => void> | undefined;
  private readonly clock: Clock;
  private readonly tokenLifetimeSeconds: number;
  private readonly latencyMs: number;
  private readonly record: boolean;

  constructor(listener: HttpsListener, options: FakeFcmOptions) {
    super(listener);
    const server = listener.server;
    this.tokenUrl = `${this.url}/token`;
    this.serviceAccount = fakeServiceAccount(this.tokenUrl);
    this.projectId = this.serviceAccount.project_id;
    this.clock = options.clock ?? systemClock;
    this.tokenLifetimeSeconds = options.tokenLifetimeSeconds ?? 3600;
    this.latencyMs = options.latencyMs ?? 0;
    this.record = options.record ?? true;
    server.on('connection', (socket: Socket) => {
      this.connectionCount += 1;
      this.openConnections.add(socket);
      this.maxOpen = Math.max(this.maxOpen, this.openConnections.size);
      socket.on('close', () => this.openConnections.delete(socket));
    });
    // Requests come on the TLS socket, not the TCP one `connection` saw: numbered separately.
    server.on('secureConnection', (socket: TLSSocket) => {
      this.secureCount += 1;
      connectionIds.set(socket, this.secureCount);
    });
  }

  /** Access tokens issued so far. */
  get tokensIssued(): number {
    return this.issuedCount;
  }

  /** TCP connections accepted so far. */
  get connectionsOpened(): number {
    return this.connectionCount;
  }

  /** The most TCP connections open at once. */
  get maxOpenConnections(): number {
    return this.maxOpen;
  }

  /** The most send requests being answered at once. */
  get maxConcurrentSends(): number {
    return this.maxSendsInFlight;
  }

  /** The credentials an app would be configured with to use this fake. */
  credentials(): { service_account: FakeServiceAccount; url: string; ca: string } {
    return { service_account: this.serviceAccount, url: this.url, ca: this.ca };
  }

  /** The next answers of the token endpoint, one per request (`'ok'` = the real checks). */
  scriptTokenEndpoint(answers: readonly FakeFcmAnswer[]): void {
    this.tokenScript = [...answers];
  }

  /** Holds every send answer (requests are still received and recorded) until `resume()`. */
  pause(): void {
    this.held ??= [];
  }

  /** Sends the held answers and stops holding. */
  resume(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const release of held) release();
  }

  /** Every access token issued so far stops working (sends answer 401 UNAUTHENTICATED). */
  revokeAccessTokens(): void {
    this.issued.clear();
  }

  /** Forgets recorded requests, scripts and the outage (not issued tokens or counters). */
  reset(): void {
    this.received.length = 0;
    this.tokenRequests.length = 0;
    this.tokenScript = [];
    this.clearScripts();
  }

  override async close(): Promise<void> {
    this.held = undefined;
    await super.close();
  }

  /** FCM's JSON type, written with a space. */
  protected override contentType = (body: string): string =>
    body.startsWith('<') ? 'text/html; charset=UTF-8' : 'application/json; charset=UTF-8';

  protected handle(request: IncomingMessage, response: ServerResponse, body: string): void {
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    if (request.method === 'POST' && path === '/token') {
      this.token(request, response, body);
      return;
    }
    const send = /^\/v1\/projects\/([^/]+)\/messages:send$/.exec(path);
    if (request.method === 'POST' && send !== null) {
      this.send(request, response, decodeURIComponent(send[1] ?? ''), body);
      return;
    }
    this.answer(request, response, {
      status: 404,
      body: googleError(404, 'NOT_FOUND', `The requested URL ${path} was not found on this server.`),
    });
  }

  private token(request: IncomingMessage, response: ServerResponse, body: string): void {
    const now = this.clock.now();
    const entry: FakeFcmTokenRequest = {
      at: now,
      header: undefined,
      claims: undefined,
      status: 0,
      accessToken: undefined,
    };
    const scripted = this.tokenScript.shift();
    let answer: FakeFcmAnswer;
    if (scripted !== undefined && scripted !== 'ok') {
      answer = scripted;
    } else {
      const form = new URLSearchParams(body);
      const assertion = form.get('assertion') ?? '';
      const [headerPart, claimsPart] = assertion.split('.');
      entry.header = decodeSegment(headerPart);
      entry.claims = decodeSegment(claimsPart);
      const problem = this.checkAssertion(form.get('grant_type'), assertion, entry, now);
      if (problem !== undefined) {
        answer = problem;
      } else {
        const accessToken = `ya29.fake-${this.issuedCount + 1}-${randomBytes(12).toString('base64url')}`;
        this.issued.set(accessToken, now + this.tokenLifetimeSeconds * 1000);
        this.issuedCount += 1;
        entry.accessToken = accessToken;
        answer = {
          status: 200,
          body: JSON.stringify({
            access_token: accessToken,
            expires_in: this.tokenLifetimeSeconds,
            token_type: 'Bearer',
          }),
        };
      }
    }
    entry.status = statusOf(answer, 200);
    if (this.record) this.tokenRequests.push(entry);
    this.emit('token', entry);
    this.answer(request, response, answer);
  }

  private checkAssertion(
    grantType: string | null,
    assertion: string,
    entry: FakeFcmTokenRequest,
    now: number,
  ): CannedError | undefined {
    if (grantType !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
      return oauthError('unsupported_grant_type', `Invalid grant_type: ${grantType ?? ''}`);
    }
    const parts = assertion.split('.');
    const { header, claims } = entry;
    if (parts.length !== 3 || header === undefined || claims === undefined) {
      return oauthError('invalid_grant', 'Invalid JWT: could not decode the assertion.');
    }
    if (header.alg !== 'RS256') return oauthError('invalid_grant', 'Invalid JWT Signature.');
    if (header.kid !== undefined && header.kid !== this.serviceAccount.private_key_id) {
      return oauthError('invalid_grant', 'Invalid JWT Signature.');
    }
    const signed = verify(
      'sha256',
      Buffer.from(`${parts[0]}.${parts[1]}`),
      SERVICE_ACCOUNT_PUBLIC_KEY,
      Buffer.from(parts[2] ?? '', 'base64url'),
    );
    if (!signed) return oauthError('invalid_grant', 'Invalid JWT Signature.');
    if (claims.iss !== this.serviceAccount.client_email) {
      return oauthError('invalid_grant', 'Invalid grant: account not found');
    }
    if (claims.aud !== this.tokenUrl) {
      return oauthError(
        'invalid_grant',
        `Invalid JWT: Failed audience check. The right audience is ${this.tokenUrl}`,
      );
    }
    const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ') : [];
    if (!scopes.some((scope) => FCM_SCOPES.includes(scope))) {
      return oauthError('invalid_scope', 'Invalid OAuth scope or ID token audience provided.');
    }
    const { iat, exp } = claims;
    const nowSeconds = Math.floor(now / 1000);
    if (
      typeof iat !== 'number' ||
      typeof exp !== 'number' ||
      exp - iat > 3600 ||
      exp <= iat ||
      exp <= nowSeconds ||
      iat > nowSeconds + 300
    ) {
      return oauthError('invalid_grant', shortLivedText);
    }
    return undefined;
  }

  private send(request: IncomingMessage, response: ServerResponse, project: string, raw: string): void {
    const now = this.clock.now();
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      body = undefined;
    }
    const token = objectOf(objectOf(body)?.message)?.token;
    const deviceToken = typeof token === 'string' ? token : undefined;
    const answer = this.decide(request, project, raw, body, deviceToken, now);

    const received: FakeFcmReceived = {
      at: now,
      project,
      headers: request.headers,
      body,
      token: deviceToken,
      status: statusOf(answer, 200),
      connection: connectionIds.get(request.socket) ?? 0,
    };
    if (this.record) this.received.push(received);
    this.emit('request', received);

    this.sendsInFlight += 1;
    this.maxSendsInFlight = Math.max(this.maxSendsInFlight, this.sendsInFlight);
    response.on('close', () => {
      this.sendsInFlight -= 1;
    });
    const validateOnly = objectOf(body)?.validate_only === true || objectOf(body)?.validateOnly === true;
    const delayed: FakeFcmAnswer = this.latencyMs > 0 ? { delayMs: this.latencyMs, answer } : answer;
    const release = () => this.answer(request, response, delayed, project, validateOnly);
    if (this.held !== undefined) this.held.push(release);
    else release();
  }

  private decide(
    request: IncomingMessage,
    project: string,
    raw: string,
    body: unknown,
    deviceToken: string | undefined,
    now: number,
  ): FakeFcmAnswer {
    if (this.outage !== undefined) return this.outage;
    const authorization = request.headers.authorization;
    if (authorization === undefined) {
      return {
        status: 401,
        body: googleError(401, 'UNAUTHENTICATED', missingCredentialText),
        headers: wwwAuthenticate,
      };
    }
    const bearer = /^Bearer (\S+)$/i.exec(authorization)?.[1];
    const expiresAt = bearer === undefined ? undefined : this.issued.get(bearer);
    if (expiresAt === undefined || expiresAt <= now) return 'UNAUTHENTICATED';
    if (project !== this.projectId) return 'PERMISSION_DENIED';
    if (body === undefined) {
      const description = `Invalid JSON payload received. Unexpected token.\n${raw.slice(0, 40)}`;
      return { status: 400, body: violationBody({ field: '', description, fcm: false }) };
    }
    const violation = validateSendBody(body);
    if (violation !== undefined) return { status: 400, body: violationBody(violation) };
    return (deviceToken === undefined ? undefined : this.scripts.next(deviceToken)) ?? 'ok';
  }

  private answer(
    request: IncomingMessage,
    response: ServerResponse,
    answer: FakeFcmAnswer,
    project = this.projectId,
    validateOnly = false,
  ): void {
    this.respond(
      request,
      response,
      answer,
      (own: Exclude<FakeFcmAnswer, 'hang' | 'reset' | { delayMs: number }>) => {
        if (own === 'ok') {
          this.messageCount += 1;
          const id = validateOnly ? 'fake_message_id' : `${1_700_000_000_000_000 + this.messageCount}`;
          return { status: 200, body: JSON.stringify({ name: `projects/${project}/messages/${id}` }) };
        }
        if (typeof own === 'string') return FAKE_FCM_ERRORS[own];
        if ('error' in own) {
          const base: CannedError = FAKE_FCM_ERRORS[own.error];
          const headers: Record<string, string> = { ...base.headers };
          if (own.retryAfter === null) delete headers['retry-after'];
          else if (own.retryAfter !== undefined) headers['retry-after'] = String(own.retryAfter);
          return { status: base.status, body: base.body, headers };
        }
        return own;
      },
    );
  }
}

function statusOf(answer: FakeFcmAnswer, ok: number): number {
  if (answer === 'ok') return ok;
  if (answer === 'hang' || answer === 'reset') return 0;
  if (typeof answer === 'string') return FAKE_FCM_ERRORS[answer].status;
  if ('delayMs' in answer) return statusOf(answer.answer, ok);
  if ('error' in answer) return FAKE_FCM_ERRORS[answer.error].status;
  return answer.status;
}

/** Starts a fake FCM on 127.0.0.1, on a free port. */
export async function startFakeFcm(options: FakeFcmOptions = {}): Promise<FakeFcm> {
  return new FakeFcm(await listenHttps(), options);
}
