import { randomUUID } from 'node:crypto';
import type { ProviderRequest, PushAdapter, PushMessage, PushResult } from '../adapter.js';
import { createAccessTokenSource } from '../shared/access-tokens.js';
import { batchIdenticalMessages, noResults, sendBatches } from '../shared/batches.js';
import type { PushFailure } from '../shared/errors.js';
import { createProviderHttp, type HttpAdapterOptions, sendWithToken } from '../shared/provider-http.js';
import { fetchVivoAuthToken, VIVO_AUTH_TOKEN_REFRESH_MARGIN_MS, vivoAuthTokenKey } from './vivo.auth.js';
import type { VivoSettings } from './vivo.config.js';
import {
  classifyVivoHttpAnswer,
  invalidUserFailure,
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

/** Default `concurrency`: 32. */
export type VivoAdapterOptions = HttpAdapterOptions;

type Called = { answer: VivoAnswer } | PushFailure;

const refusesToken = (answer: { body: string }) => parseVivoAnswer(answer.body).result === VIVO_AUTH_FAILED;

/** Each phone's result of a `pushToList` vivo took: those in `invalidUsers` fail, the others are sent. */
function listResults(messages: readonly PushMessage[], answer: VivoAnswer, taskId: string): PushResult[] {
  const invalid = new Map(answer.invalidUsers.map((user) => [user.userid, user]));
  const providerMessageId = answer.taskId ?? taskId;
  return messages.map((message): PushResult => {
    const user = invalid.get(message.token);
    return user === undefined ? { ok: true, providerMessageId } : invalidUserFailure(user);
  });
}

/**
 * vivo PUSH (reference/providers.md §5.2). A ring, and a message to one phone, is one
 * `message/send`; a message to many phones is one `message/saveListPayload` and then one
 * `message/pushToList` per 1000 regIds, with each phone's result read from `invalidUsers`.
 * The authToken is shared by all requests and replaced hourly; a request refused with 10000
 * gets a new token once and is sent again. `send` never throws: network faults and timeouts
 * are `retry` results.
 */
export function createVivoAdapter(settings: VivoSettings, options: VivoAdapterOptions): PushAdapter {
  const { clock } = options;
  const http = createProviderHttp(settings.ca, options, 32);
  const authTokens = createAccessTokenSource({
    key: vivoAuthTokenKey(settings),
    fetch: () => fetchVivoAuthToken(settings, http.post, clock.now()),
    clock,
    refreshMarginMs: VIVO_AUTH_TOKEN_REFRESH_MARGIN_MS,
    store: options.accessTokens,
  });

  /** One request with the app's authToken: vivo's answer when it is a success, else the failure. */
  const call = async (request: ProviderRequest): Promise<Called> => {
    const answer = await sendWithToken(http, authTokens, {
      withToken: (authToken) => ({ ...request, headers: { ...request.headers, authToken } }),
      refusesToken,
    });
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
    return listResults(messages, called.answer, taskId);
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
    const lists: Promise<PushResult[]>[] = [];
    for (let index = 0; index < messages.length; index += VIVO_BATCH_SIZE) {
      lists.push(pushToList(messages.slice(index, index + VIVO_BATCH_SIZE), taskId));
    }
    return (await Promise.all(lists)).flat();
  };

  return {
    provider: 'vivo',
    // One saveListPayload serves any number of pushToList calls: the larger a send, the fewer
    // payloads are saved per phone.
    batchSize: VIVO_BATCH_SIZE * 10,
    send: (messages) =>
      // Rings come back one by one and go out at once; messages by content, in any number.
      sendBatches(noResults(messages), batchIdenticalMessages(messages, Number.MAX_SAFE_INTEGER), (batch) =>
        batch.messages.length === 1 ? Promise.all(batch.messages.map(sendOne)) : sendMany(batch.messages),
      ),
    close: () => http.close(),
  } satisfies PushAdapter;
}
