/**
 * What a fake push provider over HTTPS needs besides its protocol: a server on 127.0.0.1 with
 * the test certificate (test/fixtures/fcm/, trusted through its CA), scripted answers per token,
 * and the answers tests script (a raw HTTP answer, a delay, a silent server, a dropped connection).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type https from 'node:https';
import { listenHttps as listen, TEST_CA } from './https-listener.js';

export { TEST_CA };

export interface RawAnswer {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

/** `'hang'`: never answers; `'reset'`: drops the connection; `{delayMs, answer}`: later. */
export type TransportAnswer<T> = 'hang' | 'reset' | { delayMs: number; answer: T };

export type RequestHandler = (request: IncomingMessage, response: ServerResponse, body: string) => void;

/** An HTTPS server on a free port of 127.0.0.1, handing each request over with its whole body. */
export async function listenHttps(
  handler: RequestHandler,
): Promise<{ server: https.Server; origin: string }> {
  const { server, url } = await listen();
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => handler(request, response, Buffer.concat(chunks).toString('utf8')));
  });
  return { server, origin: url };
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
): void {
  if (answer === 'hang') return;
  if (answer === 'reset') {
    request.socket.destroy();
    return;
  }
  if (typeof answer === 'object' && answer !== null && 'delayMs' in answer) {
    const delayed = answer as { delayMs: number; answer: T };
    const timer = setTimeout(() => {
      timers.delete(timer);
      respond(request, response, delayed.answer, resolve, timers);
    }, delayed.delayMs);
    timers.add(timer);
    return;
  }
  const raw = resolve(answer as T);
  if (response.destroyed) return;
  response.writeHead(raw.status, {
    'content-type': raw.body.startsWith('<') ? 'text/html; charset=UTF-8' : 'application/json;charset=UTF-8',
    ...raw.headers,
  });
  response.end(raw.body);
}

/** Stops the server: pending delays dropped, open connections closed. */
export async function closeHttps(server: https.Server, timers: Set<NodeJS.Timeout>): Promise<void> {
  for (const timer of timers) clearTimeout(timer);
  timers.clear();
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
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
