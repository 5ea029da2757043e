/**
 * What a fake push provider over HTTPS needs besides its protocol: a server on 127.0.0.1 with
 * the test certificate (test/fixtures/fcm/, trusted through its CA), scripted answers per token,
 * and the answers tests script (a raw HTTP answer, a delay, a silent server, a dropped connection).
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type https from 'node:https';
import { type HttpsListener, TEST_CA } from './https-listener.js';

export { TEST_CA };

export interface RawAnswer {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

/** `'hang'`: never answers; `'reset'`: drops the connection; `{delayMs, answer}`: later. */
export type TransportAnswer<T> = 'hang' | 'reset' | { delayMs: number; answer: T | TransportAnswer<T> };

export type RequestHandler = (request: IncomingMessage, response: ServerResponse, body: string) => void;

/** Hands each request of `server` to `handler` with its whole body. */
export function onRequest(server: https.Server, handler: RequestHandler): void {
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => handler(request, response, Buffer.concat(chunks).toString('utf8')));
  });
}

/** `text/html` for a body that looks like a page, JSON otherwise. */
export function htmlOrJson(body: string): string {
  return body.startsWith('<') ? 'text/html; charset=UTF-8' : 'application/json;charset=UTF-8';
}

/**
 * Answers a request: the transport answers here, any other through `resolve` (which turns the
 * fake's own answers into HTTP). Delays are timers the fake clears when it closes.
 */
export function respond<T>(
  request: IncomingMessage,
  response: ServerResponse,
  answer: T | TransportAnswer<T>,
  resolve: (answer: T) => RawAnswer,
  timers: Set<NodeJS.Timeout>,
  contentType: (body: string) => string = htmlOrJson,
): void {
  if (answer === 'hang') return;
  if (answer === 'reset') {
    request.socket.destroy();
    return;
  }
  if (typeof answer === 'object' && answer !== null && 'delayMs' in answer) {
    const delayed = answer as { delayMs: number; answer: T | TransportAnswer<T> };
    const timer = setTimeout(() => {
      timers.delete(timer);
      respond(request, response, delayed.answer, resolve, timers, contentType);
    }, delayed.delayMs);
    timers.add(timer);
    return;
  }
  const raw = resolve(answer as T);
  if (response.destroyed) return;
  response.writeHead(raw.status, { 'content-type': contentType(raw.body), ...raw.headers });
  response.end(raw.body);
}

/**
 * Answers scripted per token: a list is used one answer per message, then the default again;
 * a single answer is used every time.
 */
export class TokenScripts<T> {
  private scripts = new Map<string, { answers: T[]; sticky: boolean }>();

  set(token: string, answers: T | readonly T[]): void {
    if (Array.isArray(answers))
      this.scripts.set(token, { answers: [...(answers as readonly T[])], sticky: false });
    else this.scripts.set(token, { answers: [answers as T], sticky: true });
  }

  /** The next scripted answer for the token, if any. */
  next(token: string): T | undefined {
    const script = this.scripts.get(token);
    if (script === undefined) return undefined;
    const answer = script.sticky ? script.answers[0] : script.answers.shift();
    if (!script.sticky && script.answers.length === 0) this.scripts.delete(token);
    return answer;
  }

  clear(): void {
    this.scripts.clear();
  }
}

/**
 * The machinery every fake push provider shares: the HTTPS listener (requests handed over with
 * their whole body), answers scripted per token, the next-N answers, an outage, the transport
 * answers (a delay, a silent server, a dropped connection) and closing. A fake adds its protocol:
 * `handle` and how its own answers turn into HTTP.
 */
export abstract class HttpsFake<
  Answer,
  TokenAnswer = Answer,
  Events extends Record<keyof Events, unknown[]> = Record<never, unknown[]>,
> extends EventEmitter<Events> {
  /** `https://127.0.0.1:<port>`, no trailing slash. */
  readonly url: string;
  protected readonly scripts = new TokenScripts<TokenAnswer>();
  /** Answers for the next requests, one each, whatever their tokens. */
  protected nextAnswers: Answer[] = [];
  protected outage: Answer | undefined;
  protected readonly timers = new Set<NodeJS.Timeout>();

  protected constructor(protected readonly listener: HttpsListener) {
    super();
    this.url = listener.url;
    onRequest(listener.server, (request, response, body) => this.handle(request, response, body));
  }

  protected abstract handle(request: IncomingMessage, response: ServerResponse, body: string): void;

  /**
   * How the fake answers for `token`: a list is used one answer per request, then back to the
   * default; a single answer every time.
   */
  script(token: string, answers: TokenAnswer | readonly TokenAnswer[]): void {
    this.scripts.set(token, answers);
  }

  /** Every request answers this, until `setOutage(undefined)`. */
  setOutage(answer: Answer | undefined): void {
    this.outage = answer;
  }

  /** Forgets the scripts, next answers and the outage. */
  protected clearScripts(): void {
    this.scripts.clear();
    this.nextAnswers = [];
    this.outage = undefined;
  }

  /** Answers `answer` (transport answers here, the fake's own through `resolve`). */
  protected respond<T>(
    request: IncomingMessage,
    response: ServerResponse,
    answer: T | TransportAnswer<T>,
    resolve: (answer: T) => RawAnswer,
  ): void {
    respond(request, response, answer, resolve, this.timers, this.contentType);
  }

  /** Writes a wire answer, or drops / leaves the request, after `delayMs`. */
  protected write(
    request: IncomingMessage,
    response: ServerResponse,
    wire: RawAnswer | 'hang' | 'reset',
    delayMs = 0,
  ): void {
    const answer: RawAnswer | TransportAnswer<RawAnswer> = delayMs > 0 ? { delayMs, answer: wire } : wire;
    this.respond(request, response, answer, (raw: RawAnswer) => raw);
  }

  /** The content type of a body the fake answers (HTML for a proxy's page, else JSON). */
  protected contentType = htmlOrJson;

  /** Stops the server: pending delays dropped, open connections closed. */
  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await this.listener.close();
  }
}
