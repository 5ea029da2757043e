/**
 * A fake Firebase Cloud Messaging (HTTP v1) for tests and benchmarks: Google's OAuth2 token
 * endpoint (JWT-bearer grant, RS256 signature checked against the test service account) and
 * the send endpoint, over HTTPS on 127.0.0.1 with a test CA (test/fixtures/fcm/).
 *
 * Errors are answered with the bodies FCM really sends (reference/providers.md §2.4).
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Clock } from '../../src/clock.js';
import { decodeSegment, objectOf, systemClock } from './fake-values.js';
import { checkAssertion, type FakeServiceAccount, fakeServiceAccount } from './fcm-account.js';
import {
  FAKE_FCM_ERRORS,
  googleError,
  missingCredentialText,
  statusOf,
  wwwAuthenticate,
} from './fcm-errors.js';
import type {
  FakeFcmAnswer,
  FakeFcmEvents,
  FakeFcmOptions,
  FakeFcmReceived,
  FakeFcmTokenRequest,
} from './fcm-types.js';
import { validateSendBody, violationBody } from './fcm-validation.js';
import { HttpsFake, type RawAnswer, TEST_CA } from './https-fake.js';
import { type HttpsListener, listenHttps } from './https-listener.js';

export { type FakeServiceAccount, fakeServiceAccount } from './fcm-account.js';
export { FAKE_FCM_ERRORS, type FakeFcmErrorName } from './fcm-errors.js';
export type {
  FakeFcmAnswer,
  FakeFcmOptions,
  FakeFcmReceived,
  FakeFcmTokenRequest,
} from './fcm-types.js';

/** The test CA: trust it (the credentials' `ca`) to talk to the fake. */
export const FAKE_FCM_CA = TEST_CA;

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
      const problem = checkAssertion(this, form.get('grant_type'), assertion, entry, now);
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
          const base: RawAnswer = FAKE_FCM_ERRORS[own.error];
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

/** Starts a fake FCM on 127.0.0.1, on a free port. */
export async function startFakeFcm(options: FakeFcmOptions = {}): Promise<FakeFcm> {
  return new FakeFcm(await listenHttps(), options);
}
