import type { HttpAnswer } from '../../../net/http-client.js';
import type { PushAdapter, PushMessage, PushResult } from '../adapter.js';
import { createAccessTokenSource } from '../shared/access-tokens.js';
import { INTERNAL_ERROR } from '../shared/errors.js';
import { createProviderHttp, type HttpAdapterOptions, sendWithToken } from '../shared/provider-http.js';
import { FCM_TOKEN_REFRESH_MARGIN_MS, fcmAccessTokenKey, fetchFcmAccessToken } from './fcm.auth.js';
import type { FcmSettings } from './fcm.config.js';
import { classifyFcmError, parseFcmError } from './fcm.errors.js';
import { buildFcmRequest } from './fcm.request.js';

/** Default `concurrency`: 64. */
export type FcmAdapterOptions = HttpAdapterOptions;

function messageName(body: string): string | undefined {
  try {
    const name = (JSON.parse(body) as { name?: unknown }).name;
    return typeof name === 'string' ? name : undefined;
  } catch {
    return undefined;
  }
}

/** A 401 without an FCM code (not THIRD_PARTY_AUTH_ERROR): our access token, revoked or expired early. */
const refusesToken = (answer: HttpAnswer) =>
  answer.status === 401 && parseFcmError(answer.body).errorCode === undefined;

/**
 * FCM HTTP v1 (reference/providers.md §2). One request per message (v1 has no batch). The
 * OAuth2 access token is shared by all sends and replaced 5 minutes before it expires; a 401
 * from the send endpoint (not FCM's THIRD_PARTY_AUTH_ERROR) replaces it once and sends that
 * message again. `send` never throws: network faults and timeouts are `retry` results.
 */
export function createFcmAdapter(settings: FcmSettings, options: FcmAdapterOptions): PushAdapter {
  const { clock } = options;
  const http = createProviderHttp(settings.ca, options, 64);
  const accessTokens = createAccessTokenSource({
    key: fcmAccessTokenKey(settings),
    fetch: () => fetchFcmAccessToken(settings, http.post, clock.now()),
    clock,
    refreshMarginMs: FCM_TOKEN_REFRESH_MARGIN_MS,
    store: options.accessTokens,
  });

  const sendOne = async (message: PushMessage): Promise<PushResult> => {
    const request = buildFcmRequest(message, settings, clock.now());
    const answer = await sendWithToken(http, accessTokens, {
      withToken: (accessToken) => ({
        ...request,
        headers: { ...request.headers, authorization: `Bearer ${accessToken}` },
      }),
      refusesToken,
    });
    if (!('status' in answer)) return answer;
    if (answer.status >= 200 && answer.status < 300) {
      return { ok: true, providerMessageId: messageName(answer.body) };
    }
    return classifyFcmError(
      { status: answer.status, body: answer.body, retryAfter: answer.headers['retry-after'] },
      clock.now(),
    );
  };

  return {
    provider: 'fcm',
    send: (messages) => Promise.all(messages.map((message) => sendOne(message).catch(() => INTERNAL_ERROR))),
    close: () => http.close(),
  } satisfies PushAdapter;
}
