import { generateKeyPairSync, randomBytes, sign, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The push socket's TLS certificate. Lancens clients do not check it (they connect to a
 * host they were built for and skip verification), so a self-signed certificate made on the
 * first start serves them; an operator may configure a real one.
 */
export interface TlsMaterial {
  cert: string;
  key: string;
}

// A minimal DER writer: just what one self-signed X.509 v3 certificate needs.
function der(tag: number, ...contents: Buffer[]): Buffer {
  const body = Buffer.concat(contents);
  const length = body.length;
  let header: Buffer;
  if (length < 0x80) header = Buffer.from([tag, length]);
  else if (length < 0x100) header = Buffer.from([tag, 0x81, length]);
  else if (length < 0x10000) header = Buffer.from([tag, 0x82, length >> 8, length & 0xff]);
  else throw new Error('DER value too long');
  return Buffer.concat([header, body]);
}
const sequence = (...contents: Buffer[]) => der(0x30, ...contents);
const set = (...contents: Buffer[]) => der(0x31, ...contents);
const utf8 = (text: string) => der(0x0c, Buffer.from(text, 'utf8'));
const generalizedTime = (date: Date) =>
  der(0x18, Buffer.from(`${date.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`, 'ascii'));

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const bytes = [40 * (parts[0] ?? 0) + (parts[1] ?? 0)];
  for (const part of parts.slice(2)) {
    const groups = [part & 0x7f];
    for (let rest = part >> 7; rest > 0; rest >>= 7) groups.unshift((rest & 0x7f) | 0x80);
    bytes.push(...groups);
  }
  return der(0x06, Buffer.from(bytes));
}

/**
 * DER INTEGER of the unsigned big-endian `bytes`, in the minimal form DER demands: parsers
 * refuse a leading zero octet that is not needed for the sign ("illegal padding").
 */
export function derUnsignedInteger(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const magnitude = bytes.subarray(start);
  const signed = (magnitude[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), magnitude]) : magnitude;
  return der(0x02, signed.length === 0 ? Buffer.from([0]) : signed);
}

const ecdsaWithSha256 = sequence(oid('1.2.840.10045.4.3.2'));

/** A self-signed ECDSA P-256 certificate for `commonName` (also its DNS name), valid `days`. */
export function createSelfSignedCertificate(commonName: string, days = 3650): TlsMaterial {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const name = sequence(set(sequence(oid('2.5.4.3'), utf8(commonName))));
  const notBefore = new Date(Date.now() - 3600_000);
  const notAfter = new Date(notBefore.getTime() + days * 24 * 3600_000);
  const serial = randomBytes(16);
  const subjectAltName = sequence(
    oid('2.5.29.17'),
    der(0x04, sequence(der(0x82, Buffer.from(commonName, 'ascii')))),
  );
  const basicConstraints = sequence(oid('2.5.29.19'), der(0x04, sequence()));
  const tbs = sequence(
    der(0xa0, der(0x02, Buffer.from([2]))),
    derUnsignedInteger(serial),
    ecdsaWithSha256,
    name,
    sequence(generalizedTime(notBefore), generalizedTime(notAfter)),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    der(0xa3, sequence(subjectAltName, basicConstraints)),
  );
  const signature = sign('sha256', tbs, privateKey);
  const certificate = sequence(tbs, ecdsaWithSha256, der(0x03, Buffer.from([0]), signature));
  const body = certificate.toString('base64').replace(/(.{64})/g, '$1\n');
  const cert = `-----BEGIN CERTIFICATE-----\n${body.replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
  // Checks the encoding: throws if the certificate cannot be parsed.
  new X509Certificate(cert);
  return { cert, key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

/** A configured value is PEM text or the path of a PEM file. */
function pemOrFile(value: string): string {
  return value.includes('-----BEGIN ') ? value : readFileSync(value, 'utf8');
}

/**
 * The configured certificate and key; else the self-signed pair in the data directory,
 * made on the first start and kept, so the certificate is the same after a restart.
 */
export function loadChannelTls(options: {
  cert: string | undefined;
  key: string | undefined;
  dataDir: string;
  commonName: string;
  warn: (message: string) => void;
}): TlsMaterial {
  if (options.cert !== undefined && options.key !== undefined)
    return { cert: pemOrFile(options.cert), key: pemOrFile(options.key) };
  const certFile = join(options.dataDir, 'channel-cert.pem');
  const keyFile = join(options.dataDir, 'channel-key.pem');
  if (existsSync(certFile) && existsSync(keyFile))
    return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
  const material = createSelfSignedCertificate(options.commonName);
  mkdirSync(options.dataDir, { recursive: true });
  writeFileSync(keyFile, material.key, { mode: 0o600 });
  chmodSync(keyFile, 0o600);
  writeFileSync(certFile, material.cert);
  options.warn(
    `generated a self-signed certificate for the push channel in ${certFile}; set CHANNEL_TLS_CERT and CHANNEL_TLS_KEY to use your own`,
  );
  return material;
}
