/** What the push channel's e2e tests share: a TLS certificate, phone identities, a server. */
import { createSelfSignedCertificate } from '../../src/channel/certificate.js';
import { type ChannelServer, startChannelServer } from '../../src/channel/server.js';
import type { TestApp } from './app.js';
import type { PhoneIdentity } from './channel-client.js';

export const tlsMaterial = createSelfSignedCertificate('localhost');
/** An app with FCM credentials: the fallback for phones that also have a maker token. */
export const bundle = 'com.example.channel.doorbell';
/** Not configured at all: the channel delivers for it anyway. */
export const unconfigured = 'com.example.channel.unconfigured';

let phoneCounter = 0;
/** A phone of its own: IMEI and IMSI unique in this process. */
export function identity(bundleId = unconfigured): PhoneIdentity {
  phoneCounter += 1;
  return { imei: `86${process.pid}${phoneCounter}`, imsi: `46000${phoneCounter}`, bundle_id: bundleId };
}

/** The TLS push socket of a test app, on a free port of 127.0.0.1. */
export async function startChannel(t: TestApp, handshakeTimeoutMs = 10_000): Promise<ChannelServer> {
  return startChannelServer(t.services.channel, {
    port: 0,
    host: '127.0.0.1',
    tls: tlsMaterial,
    handshakeTimeoutMs,
  });
}
