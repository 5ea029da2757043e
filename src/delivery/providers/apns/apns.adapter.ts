import type { Clock } from '../../../clock.js';
import type { PushAdapter, PushMessage, PushResult } from '../adapter.js';
import type { ApnsJwt, ApnsJwtStore } from '../shared/apns-jwts.js';
import { type Http2Answer, type Http2Outcome, Http2Pool } from '../shared/http2-pool.js';
import { ApnsJwtSource, checkedRefreshAge, processApnsJwts } from './apns.auth.js';
import {
  type ApnsCredentials,
  apnsEndpoints,
  apnsTlsOptions,
  isTokenCredentials,
  validateApnsCredentials,
} from './apns.config.js';
import { apnsErrorReason, classifyApnsError } from './apns.errors.js';
import { apnsLocalRefusal, apnsPayloadLimit, buildApnsRequest } from './apns.request.js';

export interface ApnsAdapterOptions {
  /** Unix ms: the JWT's `iat`, its age, and message expiry. */
  clock: Clock;
  /** Connections per APNs host (production, sandbox). Default 2. */
  maxConnections?: number;
  /** Per request, and for opening a connection. Default 10 s. */
  requestTimeoutMs?: number;
  /** Where the JWT of a signing key is kept. Default: one store per process. */
  providerTokens?: ApnsJwtStore;
  /** Age at which the JWT is signed anew, 20–55 minutes. Default 50 minutes. */
  jwtRefreshAgeMs?: number;
  /** Cap on concurrent streams per connection, below the server's own limit. Default 1000. */
  maxStreamsPerConnection?: number;
}

export const APNS_PROVIDER = 'apns';

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** An answer that shows APNs took our JWT: anything but an auth refusal or a server fault. */
function acceptsJwt(answer: Http2Answer): boolean {
  return answer.status < 500 && answer.status !== 403 && answer.status !== 429;
}

function resultOf(outcome: Http2Outcome, now: number): PushResult {
  if (outcome.kind === 'lost') return { ok: false, failure: 'retry', reason: outcome.reason };
  const apnsId = single(outcome.headers['apns-id']);
  if (outcome.status >= 200 && outcome.status < 300) return { ok: true, providerMessageId: apnsId };
  return classifyApnsError(outcome.status, apnsErrorReason(outcome.body), {
    header: single(outcome.headers['retry-after']),
    now,
  });
}

function isExpiredJwt(outcome: Http2Outcome): boolean {
  return (
    outcome.kind === 'answer' &&
    outcome.status === 403 &&
    apnsErrorReason(outcome.body) === 'ExpiredProviderToken'
  );
}

type Post = (signed: ApnsJwt | undefined) => Promise<Http2Outcome>;

/**
 * Token auth: the shared JWT goes with the request; on `403 ExpiredProviderToken` the request
 * goes once more, with a fresh JWT (or the one another sender already made).
 */
async function postWithJwt(jwts: ApnsJwtSource, post: Post, message: PushMessage, clock: Clock) {
  let signed: ApnsJwt;
  try {
    signed = await jwts.current();
  } catch {
    return { ok: false, failure: 'retry', reason: 'provider_token_unavailable' } satisfies PushResult;
  }
  const outcome = await post(signed);
  if (!isExpiredJwt(outcome)) return resultOf(outcome, clock.now());
  const renewed = await jwts.renewAfterExpired(signed).catch(() => undefined);
  if (renewed === undefined || message.expiresAt <= clock.now()) return resultOf(outcome, clock.now());
  return resultOf(await post(renewed), clock.now());
}

function poolOptions(credentials: ApnsCredentials, options: ApnsAdapterOptions) {
  return {
    clock: options.clock,
    tls: apnsTlsOptions(credentials),
    maxConnections: Math.max(1, Math.floor(options.maxConnections ?? 2)),
    maxStreamsPerConnection: Math.max(1, Math.floor(options.maxStreamsPerConnection ?? 1000)),
    requestTimeoutMs: Math.max(1, options.requestTimeoutMs ?? 10_000),
    // Token auth: a new connection proves the JWT with one request before it carries more.
    ...(isTokenCredentials(credentials) ? { warmWhen: acceptsJwt } : {}),
  };
}

/**
 * An APNs adapter for one app's credentials. Throws (at creation only) when the credentials
 * are invalid; `send` never throws: every fault becomes a result.
 */
export function createApnsAdapter(credentials: ApnsCredentials, options: ApnsAdapterOptions) {
  const checked = validateApnsCredentials(credentials);
  if (!checked.ok) throw new Error(`Invalid APNs credentials: ${checked.error}`);
  const clock = options.clock;
  const refreshAgeMs = checkedRefreshAge(options.jwtRefreshAgeMs);
  const endpoints = apnsEndpoints(credentials);
  const jwts = isTokenCredentials(credentials)
    ? new ApnsJwtSource(credentials, options.providerTokens ?? processApnsJwts, clock, refreshAgeMs)
    : undefined;
  const shared = poolOptions(credentials, options);
  const pools = new Map<string, Http2Pool>();
  let closed = false;

  const pool = (origin: string): Http2Pool => {
    let found = pools.get(origin);
    if (found === undefined) {
      found = new Http2Pool({ origin, ...shared });
      pools.set(origin, found);
    }
    return found;
  };

  const sendOne = async (message: PushMessage): Promise<PushResult> => {
    if (closed) return { ok: false, failure: 'retry', reason: 'adapter_closed' };
    const now = clock.now();
    const refused = apnsLocalRefusal(message, now);
    if (refused !== undefined) return refused;
    const request = buildApnsRequest(message, endpoints, now);
    if (Buffer.byteLength(request.body) > apnsPayloadLimit(message)) {
      return { ok: false, failure: 'bad_request', reason: 'PayloadTooLarge' };
    }
    const origin = message.environment === 'sandbox' ? endpoints.sandboxUrl : endpoints.productionUrl;
    const target = pool(origin);
    const path = request.url.slice(origin.length);
    const post: Post = (signed) =>
      target.post(
        path,
        signed === undefined
          ? request.headers
          : { ...request.headers, authorization: `bearer ${signed.jwt}` },
        request.body,
      );
    if (jwts === undefined) return resultOf(await post(undefined), clock.now());
    return postWithJwt(jwts, post, message, clock);
  };

  const safeSend = (message: PushMessage): Promise<PushResult> =>
    sendOne(message).catch(
      (error: unknown): PushResult => ({
        ok: false,
        failure: 'retry',
        reason: `internal_error:${error instanceof Error ? error.name : 'unknown'}`,
      }),
    );

  return {
    provider: APNS_PROVIDER,
    send: (messages: readonly PushMessage[]) => Promise.all(messages.map(safeSend)),
    close: async () => {
      closed = true;
      await Promise.all([...pools.values()].map((each) => each.close()));
    },
  } satisfies PushAdapter;
}
