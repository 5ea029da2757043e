import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSelfSignedCertificate, derUnsignedInteger, loadChannelTls } from './certificate.js';

describe('the push socket certificate', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'bellhop-channel-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('is made in-process: a self-signed X.509 certificate for the name', () => {
    const { cert, key } = createSelfSignedCertificate('push.example.com');
    const certificate = new X509Certificate(cert);
    expect(certificate.subject).toBe('CN=push.example.com');
    expect(certificate.subjectAltName).toBe('DNS:push.example.com');
    expect(certificate.verify(certificate.publicKey)).toBe(true);
    expect(certificate.checkPrivateKey(createPrivateKey(key))).toBe(true);
  });

  it('is kept in the data directory and the same after a restart, unless one is configured', () => {
    const warnings: string[] = [];
    const options = { cert: undefined, key: undefined, dataDir, commonName: 'localhost' };
    const first = loadChannelTls({ ...options, warn: (message) => warnings.push(message) });
    const second = loadChannelTls({ ...options, warn: (message) => warnings.push(message) });
    expect(second).toEqual(first);
    expect(warnings).toHaveLength(1);
    expect(statSync(join(dataDir, 'channel-key.pem')).mode & 0o077).toBe(0);
    const configured = createSelfSignedCertificate('configured');
    expect(loadChannelTls({ ...options, ...configured, warn: () => {} })).toEqual(configured);
    expect(
      loadChannelTls({
        ...options,
        cert: join(dataDir, 'channel-cert.pem'),
        key: join(dataDir, 'channel-key.pem'),
        warn: () => {},
      }),
    ).toEqual(first);
  });

  it('encodes the serial number as a minimal DER integer, whatever random bytes it starts with', () => {
    const hex = (bytes: number[]) => derUnsignedInteger(Buffer.from(bytes)).toString('hex');
    expect(hex([0x00, 0x12, 0x34])).toBe('02021234');
    expect(hex([0x00, 0x00, 0x92])).toBe('0202' + '0092');
    expect(hex([0x92, 0x01])).toBe('0203' + '009201');
    expect(hex([0x7f, 0x00])).toBe('02027f00');
    expect(hex([0x00, 0x00])).toBe('020100');
  });
});
