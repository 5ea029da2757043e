/** How the fake APNs reads a request off an HTTP/2 stream, and Apple's checks of its path, headers and payload. */
import type { IncomingHttpHeaders } from 'node:http2';
import { performance } from 'node:perf_hooks';
import type { TLSSocket } from 'node:tls';
import type { ReceivedApnsRequest, SessionState } from './apns-types.js';
import { decodeSegment } from './fake-values.js';

const PUSH_TYPES = new Set([
  'alert',
  'background',
  'voip',
  'complication',
  'fileprovider',
  'mdm',
  'liveactivity',
  'location',
  'pushtotalk',
]);
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const DEVICE_PATH = /^\/3\/device\/([^/?#]*)$/;

/** The request as recorded (its answer still to come); a connection's first learns its client certificate. */
export function readRequest(
  headers: IncomingHttpHeaders,
  body: string,
  state: SessionState,
  seq: number,
  clock: { now(): number },
): ReceivedApnsRequest {
  const path = String(headers[':path'] ?? '');
  const match = DEVICE_PATH.exec(path);
  const authorization = typeof headers.authorization === 'string' ? headers.authorization : undefined;
  const jwt = authorization?.toLowerCase().startsWith('bearer ') ? authorization.slice(7).trim() : undefined;
  if (state.peer === undefined) {
    const socket = state.session.socket as TLSSocket;
    const certificate = socket.getPeerCertificate();
    state.peer =
      certificate !== undefined && Object.keys(certificate).length > 0
        ? { subject: { ...certificate.subject }, authorized: socket.authorized }
        : null;
  }
  let payload: unknown;
  try {
    payload = JSON.parse(body);
  } catch {
    payload = undefined;
  }
  const parts = jwt?.split('.');
  return {
    seq,
    connection: state.id,
    remotePort: state.session.socket?.remotePort,
    method: String(headers[':method'] ?? ''),
    path,
    token: match === null ? undefined : decodeURIComponent(match[1] ?? ''),
    authority: String(headers[':authority'] ?? ''),
    headers,
    body,
    payload,
    jwt,
    jwtHeader: decodeSegment(parts?.[0]),
    jwtClaims: decodeSegment(parts?.[1]),
    clientCertificate: state.peer === null ? undefined : state.peer.subject,
    timestamp: clock.now(),
    at: performance.now(),
    answer: { status: 0, reason: undefined, apnsId: undefined },
  };
}

/** What a valid-looking request for an acceptable token would get: undefined = 200. */
export function validate(request: ReceivedApnsRequest): [number, string] | undefined {
  if (request.method !== 'POST') return [405, 'MethodNotAllowed'];
  if (request.token === undefined) return [404, 'BadPath'];
  if (request.token === '') return [400, 'MissingDeviceToken'];
  if (request.token.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(request.token)) return [400, 'BadDeviceToken'];
  const headers = request.headers;
  const topic = typeof headers['apns-topic'] === 'string' ? headers['apns-topic'] : undefined;
  const certTopic =
    typeof request.clientCertificate?.UID === 'string' ? request.clientCertificate.UID : undefined;
  if (topic === undefined && (request.jwt !== undefined || certTopic === undefined))
    return [400, 'MissingTopic'];
  const effectiveTopic = topic ?? certTopic ?? '';
  if (request.jwt === undefined && certTopic !== undefined) {
    if (effectiveTopic !== certTopic && effectiveTopic !== `${certTopic}.voip`)
      return [400, 'TopicDisallowed'];
  }
  const pushType = headers['apns-push-type'];
  if (pushType !== undefined) {
    if (typeof pushType !== 'string' || !PUSH_TYPES.has(pushType)) return [400, 'InvalidPushType'];
    if (pushType === 'voip' && !effectiveTopic.endsWith('.voip')) return [400, 'DeviceTokenNotForTopic'];
    if (pushType !== 'voip' && effectiveTopic.endsWith('.voip')) return [400, 'InvalidPushType'];
  }
  const priority = headers['apns-priority'];
  if (priority !== undefined && priority !== '10' && priority !== '5' && priority !== '1') {
    return [400, 'BadPriority'];
  }
  const expiration = headers['apns-expiration'];
  if (expiration !== undefined && (typeof expiration !== 'string' || !/^\d{1,12}$/.test(expiration))) {
    return [400, 'BadExpirationDate'];
  }
  const apnsId = headers['apns-id'];
  if (apnsId !== undefined && (typeof apnsId !== 'string' || !UUID.test(apnsId)))
    return [400, 'BadMessageId'];
  const collapseId = headers['apns-collapse-id'];
  if (collapseId !== undefined && Buffer.byteLength(String(collapseId)) > 64) return [400, 'BadCollapseId'];
  const bytes = Buffer.byteLength(request.body);
  if (bytes === 0) return [400, 'PayloadEmpty'];
  if (bytes > (pushType === 'voip' ? 5120 : 4096)) return [413, 'PayloadTooLarge'];
  if (typeof request.payload !== 'object' || request.payload === null || Array.isArray(request.payload)) {
    // APNs documents no reason for malformed JSON; the fake names it.
    return [400, 'BadPayload'];
  }
  return undefined;
}
