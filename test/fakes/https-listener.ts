/**
 * What every HTTPS fake provider needs: the test CA and a server certificate for
 * localhost / 127.0.0.1 / ::1 (test/fixtures/fcm/, see generate.sh there), and a listener on a
 * free port of 127.0.0.1.
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

const fixtures = new URL('../fixtures/fcm/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, fixtures), 'utf8');

/** The test CA: settings that trust it (`ca`) can talk to the fakes. */
export const TEST_CA = fixture('ca.pem');
const SERVER_CERT = fixture('server.pem');
const SERVER_KEY = fixture('server-key.pem');

export interface HttpsListener {
  server: https.Server;
  /** `https://127.0.0.1:<port>`, no trailing slash. */
  url: string;
  /** Stops listening and drops every connection, idle or not. */
  close(): Promise<void>;
}

/** An HTTPS server with the test certificate, listening on a free port of 127.0.0.1. */
export async function listenHttps(): Promise<HttpsListener> {
  const server = https.createServer({
    key: SERVER_KEY,
    cert: SERVER_CERT,
    keepAliveTimeout: 60_000,
    requestTimeout: 0,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `https://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
