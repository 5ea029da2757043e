/**
 * A small HTTP(S) server on 127.0.0.1 for the login-provider fakes: it records every request
 * and can be told to be down (connections are cut) or slow (answers after `slowMs`).
 */
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

export interface FakeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
  /** The body read as a form (`application/x-www-form-urlencoded`). */
  form: URLSearchParams;
}

export interface FakeReply {
  status?: number;
  json?: unknown;
  text?: string;
  headers?: Record<string, string>;
}

export type FakeHandler = (request: FakeRequest) => FakeReply;

export type FakeMode = 'up' | 'down' | 'slow';

export class HttpFake {
  readonly calls: FakeRequest[] = [];
  mode: FakeMode = 'up';
  slowMs = 3000;
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  /** Starts a fake; with `tls` it speaks HTTPS with that certificate. */
  static async start(handler: FakeHandler, tls?: { key: string; cert: string }): Promise<HttpFake> {
    let fake: HttpFake | undefined;
    const listener = (request: IncomingMessage, response: ServerResponse) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () =>
        fake?.handle(handler, request, response, Buffer.concat(chunks).toString('utf8')),
      );
    };
    const server = tls === undefined ? http.createServer(listener) : https.createServer(tls, listener);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    fake = new HttpFake(server, `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`);
    return fake;
  }

  private handle(handler: FakeHandler, request: IncomingMessage, response: ServerResponse, body: string) {
    const url = new URL(request.url ?? '/', 'http://fake');
    const recorded: FakeRequest = {
      method: request.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: request.headers,
      body,
      form: new URLSearchParams(body),
    };
    this.calls.push(recorded);
    if (this.mode === 'down') {
      request.socket.destroy();
      return;
    }
    const reply = () => {
      const answer = handler(recorded);
      const text = answer.json !== undefined ? JSON.stringify(answer.json) : (answer.text ?? '');
      response.writeHead(answer.status ?? 200, {
        ...(answer.json !== undefined ? { 'content-type': 'application/json; charset=utf-8' } : {}),
        ...answer.headers,
      });
      response.end(text);
    };
    if (this.mode === 'slow') {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        if (!response.destroyed) reply();
      }, this.slowMs);
      this.timers.add(timer);
      return;
    }
    reply();
  }

  callsTo(path: string): FakeRequest[] {
    return this.calls.filter((call) => call.path === path);
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
