import { randomUUID } from 'node:crypto';
import type { Clock } from '../../../clock.js';
import type { ProviderRequest, PushAdapter, PushMessage, PushResult } from '../adapter.js';
import { type AccessTokenStore, createAccessTokenSource } from '../shared/access-tokens.js';
import { batchIdenticalMessages } from '../shared/batches.js';
import { createProviderHttp } from '../shared/provider-http.js';
import {
  fetchVivoAuthToken,
  VIVO_AUTH_REFRESH_MARGIN_MS,
  VivoAuthError,
  vivoAuthTokenKey,
} from './vivo.auth.js';
import { VivoSettingsError, validateVivoSettings } from './vivo.config.js';
import {
  classifyVivoHttpAnswer,
  invalidUserFailure,
  type PushFailure,
  parseVivoAnswer,
  VIVO_AUTH_FAILED,
  VIVO_INVALID_REGID,
  type VivoAnswer,
} from './vivo.errors.js';
import {
  buildVivoListPayloadRequest,
  buildVivoPushToListRequest,
  buildVivoSendRequest,
  VIVO_BATCH_SIZE,
  vivoListRequestId,
} from './vivo.request.js';

export interface VivoAdapterOptions {
  clock: Clock;
  /** Per HTTP exchange (auth or send), connecting included. Default 10 s. */
  requestTimeoutMs?: number;
  /** Requests in flight at once, across `send` calls; also the connection-pool size. Default 32. */
  concurrency?: number;
  /** Where authTokens are cached; default: in this adapter's memory. */
  accessTokens?: AccessTokenStore;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_CONCURRENCY = 32;

type Called = { answer: VivoAnswer } | PushFailure;

function authFailure(error: unknown): PushFailure {
  return error instanceof VivoAuthError
    ? error.result
    : { ok: false, failure: 'retry', reason: 'auth_error' };
}

/**
 * vivo PUSH (reference/providers.md §5.2). A ring, and a message to one phone, is one
 * `message/send`; a message to many phones is one `message/saveListPayload` and then one
 * `message/pushToList` per 1000 regIds, with each phone's result read from `invalidUsers`.
 * At most `concurrency` requests at once, over one lazily created keep-alive pool. The
 * authToken is shared by all requests and replaced hourly; a request refused with 10000 gets a
 * new token once and is sent again. `send` never throws: network faults and timeouts are
 * `retry` results.
 *
 * Throws `VivoSettingsError` when the settings do not validate.
 */
export function createVivoAdapter(input: unknown, options: VivoAdapterOptions): PushAdapter {
  const check = validateVivoSettings(input);
  if (!check.ok) throw new VivoSettingsError(check.error);
  const settings = check.settings;
  const { clock } = options;
  const http = createProviderHttp({
    ca: settings.ca,
    timeoutMs: options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS,
    concurrency: options.concurrency ?? DEFAULT_CONCURRENCY,
  });
  const authTokens = createAccessTokenSource({
    key: vivoAuthTokenKey(settings),
    fetch: () => fetchVivoAuthToken(settings, http.post, clock.now()),
    clock,
    refreshMarginMs: VIVO_AUTH_REFRESH_MARGIN_MS,
    store: options.accessTokens,
  });
  const exchange = (request: ProviderRequest, authToken: string) =>
    http.exchange(request.url, { ...request.headers, authToken }, request.body);

  /** One request with the app's authToken; refused (10000) → a fresh token, and once more. */
  const call = async (request: ProviderRequest): Promise<Called> => {
    if (http.closed) return { ok: false, failure: 'retry', reason: 'adapter_closed' };
    let authToken: string;
    try {
      authToken = await authTokens.get();
    } catch (error) {
      return authFailure(error);
    }
    let answer = await exchange(request, authToken);
    if ('status' in answer && parseVivoAnswer(answer.body).result === VIVO_AUTH_FAILED) {
      try {
        authToken = await authTokens.get({ rejected: authToken });
      } catch (error) {
        return authFailure(error);
      }
      answer = await exchange(request, authToken);
    }
    if (!('status' in answer)) return answer;
    const parsed = parseVivoAnswer(answer.body);
    if (answer.status === 200 && parsed.result === 0) return { answer: parsed };
    return classifyVivoHttpAnswer(answer, clock.now());
  };

  const sendOne = async (message: PushMessage): Promise<PushResult> => {
    const called = await call(buildVivoSendRequest(message, settings, clock.now()));
    if (!('answer' in called)) return called;
    const { invalidUser, taskId } = called.answer;
    if (invalidUser !== undefined) return invalidUserFailure(invalidUser);
    return { ok: true, providerMessageId: taskId };
  };

  /** `pushToList` for up to 1000 phones of one saved content; a refused regId → each on its own. */
  const pushToList = async (messages: PushMessage[], taskId: string): Promise<PushResult[]> => {
    const regIds = [...new Set(messages.map((message) => message.token))];
    // A list holds at least two regIds.
    if (regIds.length < 2) return Promise.all(messages.map(sendOne));
    const requestId = vivoListRequestId(
      'list',
      messages.map((message) => message.deliveryId),
    );
    const called = await call(buildVivoPushToListRequest(regIds, taskId, requestId, settings));
    if (!('answer' in called)) {
      // vivo names no regId when it refuses one of a list: the phones find out one by one.
      if (called.reason === `vivo_${VIVO_INVALID_REGID}`) return Promise.all(messages.map(sendOne));
      return messages.map(() => called);
    }
    const invalid = new Map(called.answer.invalidUsers.map((user) => [user.userid, user]));
    const providerMessageId = called.answer.taskId ?? taskId;
    return messages.map((message): PushResult => {
      const user = invalid.get(message.token);
      return user === undefined ? { ok: true, providerMessageId } : invalidUserFailure(user);
    });
  };

  /** Messages that differ only by phone: the content saved once, then lists of 1000 regIds. */
  const sendMany = async (messages: PushMessage[]): Promise<PushResult[]> => {
    const first = messages[0];
    if (first === undefined) return [];
    const saved = await call(buildVivoListPayloadRequest(first, settings, clock.now(), randomUUID()));
    if (!('answer' in saved)) return messages.map(() => saved);
    const taskId = saved.answer.taskId;
    if (taskId === undefined) {
      const failure: PushFailure = { ok: false, failure: 'retry', reason: 'bad_response' };
      return messages.map(() => failure);
    }
    const chunks: PushMessage[][] = [];
    for (let index = 0; index < messages.length; index += VIVO_BATCH_SIZE) {
      chunks.push(messages.slice(index, index + VIVO_BATCH_SIZE));
    }
    return (await Promise.all(chunks.map((chunk) => pushToList(chunk, taskId)))).flat();
  };

  const guarded = async (work: () => Promise<PushResult[]>, size: number): Promise<PushResult[]> => {
    try {
      return await work();
    } catch {
      const failure: PushFailure = { ok: false, failure: 'retry', reason: 'internal_error' };
      return Array.from({ length: size }, () => failure);
    }
  };

  return {
    provider: 'vivo',
    // One saveListPayload serves any number of pushToList calls: the larger a send, the fewer
    // payloads are saved per phone.
    batchSize: VIVO_BATCH_SIZE * 10,
    async send(messages: readonly PushMessage[]): Promise<PushResult[]> {
      const results: PushResult[] = messages.map(() => ({
        ok: false,
        failure: 'retry',
        reason: 'no_result',
      }));
      // Rings come back one by one and go out at once; messages by content, in any number.
      const groups = batchIdenticalMessages(messages, Number.MAX_SAFE_INTEGER);
      await Promise.all(
        groups.map(async (group) => {
          const size = group.messages.length;
          const answers = await guarded(
            () => (size === 1 ? Promise.all(group.messages.map(sendOne)) : sendMany(group.messages)),
            size,
          );
          group.indexes.forEach((position, index) => {
            const result = answers[index];
            if (result !== undefined) results[position] = result;
          });
        }),
      );
      return results;
    },
    close: () => http.close(),
  } satisfies PushAdapter;
}
