import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type {
  ApnsCertificateCredentials,
  ApnsTokenCredentials,
} from '../../src/delivery/providers/apns/apns.config.js';

/**
 * The APNs test material in test/fixtures/apns (made by its generate.sh): a test CA, the fake's
 * server certificate (localhost, 127.0.0.1, ::1), a token-auth signing key (.p8) with its ids,
 * and certificate-auth client certificates (.p12). Test material only.
 */

const directory = fileURLToPath(new URL('../fixtures/apns/', import.meta.url));

export const apnsFixturePaths = {
  directory,
  ca: `${directory}ca.pem`,
  caKey: `${directory}ca-key.pem`,
  serverCert: `${directory}server.pem`,
  serverKey: `${directory}server-key.pem`,
  signingKey: `${directory}AuthKey_KEYID12345.p8`,
  signingPublicKey: `${directory}AuthKey_KEYID12345.pub.pem`,
  clientP12: `${directory}client.p12`,
  untrustedClientP12: `${directory}client-untrusted.p12`,
} as const;

export const TEST_APNS_TEAM_ID = 'TEAMID1234';
export const TEST_APNS_KEY_ID = 'KEYID12345';
/** The bundle id of the client certificate (its subject UID) and of the tests' app. */
export const TEST_APNS_BUNDLE_ID = 'com.example.doorbell';
export const TEST_APNS_P12_PASSPHRASE = 'bellhop-test';

const text = (path: string) => readFileSync(path, 'utf8');

export const apnsFixtures = {
  /** PEM of the test CA: the fake's certificate chains to it; give it as `ca`. */
  ca: text(apnsFixturePaths.ca),
  serverCert: text(apnsFixturePaths.serverCert),
  serverKey: text(apnsFixturePaths.serverKey),
  /** The .p8 (PKCS#8 EC P-256 PEM) of key TEST_APNS_KEY_ID of team TEST_APNS_TEAM_ID. */
  signingKey: text(apnsFixturePaths.signingKey),
  signingPublicKey: text(apnsFixturePaths.signingPublicKey),
  /** A client certificate signed by the test CA, subject UID TEST_APNS_BUNDLE_ID, base64 .p12. */
  clientP12Base64: readFileSync(apnsFixturePaths.clientP12).toString('base64'),
  /** A self-signed client certificate the fake does not trust, base64 .p12. */
  untrustedClientP12Base64: readFileSync(apnsFixturePaths.untrustedClientP12).toString('base64'),
  p12Passphrase: TEST_APNS_P12_PASSPHRASE,
} as const;

interface FakeEndpoint {
  url: string;
  ca: string;
}

/** Token credentials for the fixture key, pointing both hosts at `fake` (or at two fakes). */
export function testApnsTokenCredentials(
  production: FakeEndpoint,
  sandbox: FakeEndpoint = production,
): ApnsTokenCredentials {
  return {
    team_id: TEST_APNS_TEAM_ID,
    key_id: TEST_APNS_KEY_ID,
    key: apnsFixtures.signingKey,
    production_url: production.url,
    sandbox_url: sandbox.url,
    ca: production.ca,
  };
}

/** Certificate credentials with the trusted client .p12, pointing both hosts at `fake`. */
export function testApnsCertificateCredentials(
  production: FakeEndpoint,
  sandbox: FakeEndpoint = production,
): ApnsCertificateCredentials {
  return {
    certificate: apnsFixtures.clientP12Base64,
    passphrase: apnsFixtures.p12Passphrase,
    production_url: production.url,
    sandbox_url: sandbox.url,
    ca: production.ca,
  };
}
