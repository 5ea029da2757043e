import { generateKeyPairSync } from 'node:crypto';
import { Value } from 'typebox/value';
import { describe, expect, it } from 'vitest';
import { apnsFixtures } from '../../../../test/fakes/apns-fixtures.js';
import { ApnsCredentialsSchema, apnsEndpoints, validateApnsCredentials } from './apns.config.js';

const token = { team_id: 'TEAMID1234', key_id: 'KEYID12345', key: apnsFixtures.signingKey };
const certificate = { certificate: apnsFixtures.clientP12Base64, passphrase: apnsFixtures.p12Passphrase };

function error(input: unknown): string {
  const result = validateApnsCredentials(input);
  if (result.ok) throw new Error('expected a validation error');
  return result.error;
}

describe('validateApnsCredentials', () => {
  it('accepts token credentials, with or without hosts and CA', () => {
    expect(validateApnsCredentials(token)).toEqual({ ok: true, value: token });
    const full = {
      ...token,
      production_url: 'https://127.0.0.1:8443',
      sandbox_url: 'https://sandbox.example/',
      ca: apnsFixtures.ca,
    };
    expect(validateApnsCredentials(full).ok).toBe(true);
    expect(Value.Check(ApnsCredentialsSchema, full)).toBe(true);
  });

  it('accepts the key without its PEM armour', () => {
    const body = apnsFixtures.signingKey.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
    expect(validateApnsCredentials({ ...token, key: body }).ok).toBe(true);
  });

  it('accepts certificate credentials', () => {
    expect(validateApnsCredentials(certificate)).toEqual({ ok: true, value: certificate });
    expect(Value.Check(ApnsCredentialsSchema, certificate)).toBe(true);
  });

  it('explains a key that is not a PEM private key', () => {
    expect(error({ ...token, key: 'hello' })).toMatch(/not a PEM private key/);
    expect(error({ ...token, key: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----' })).toMatch(
      /not a PEM private key/,
    );
  });

  it('explains a key of the wrong kind', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    expect(error({ ...token, key: rsa })).toBe(
      'key is an RSA key, not an EC P-256 key: APNs signing keys (.p8) are EC P-256',
    );
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    expect(error({ ...token, key: p384 })).toMatch(/EC key on secp384r1, not an EC P-256 key/);
  });

  it('explains ids that are not Apple’s', () => {
    expect(error({ ...token, team_id: 'team' })).toBe(
      'team_id must be the 10 upper-case letters and digits Apple shows',
    );
    expect(error({ ...token, key_id: 42 })).toBe('key_id must be a string');
  });

  it('explains a .p12 that does not open', () => {
    expect(error({ certificate: 'not base64!' })).toBe('certificate must be the .p12 file in base64');
    expect(error({ certificate: 'aGVsbG8gd29ybGQ=' })).toMatch(/certificate is not a readable .p12/);
    expect(error({ ...certificate, passphrase: 'wrong' })).toBe('certificate: wrong passphrase for the .p12');
    expect(error({ certificate: certificate.certificate })).toBe(
      'certificate: the .p12 is protected by a passphrase; send it as passphrase',
    );
  });

  it('explains the shape', () => {
    expect(error(null)).toBe('APNs credentials must be an object');
    expect(error({})).toMatch(/need token auth \{team_id, key_id, key\} or certificate auth/);
    expect(error({ ...token, ...certificate })).toMatch(/not both/);
    expect(error({ team_id: 'TEAMID1234', key: token.key })).toBe('missing key_id');
    expect(error({ ...token, extra: 1 })).toBe('unknown field extra');
  });

  it('explains hosts and CA', () => {
    expect(error({ ...token, production_url: 'http://api.push.apple.com' })).toBe(
      'production_url must be an https:// URL',
    );
    expect(error({ ...token, sandbox_url: 'https://x.example/3/device' })).toMatch(/bare origin/);
    expect(error({ ...token, ca: 'not a certificate' })).toMatch(/PEM certificates/);
    expect(error({ ...token, ca: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----' })).toMatch(
      /ca: certificate 1 does not parse/,
    );
  });

  it('never echoes the secret', () => {
    expect(error({ ...token, key: 'SECRET-VALUE' })).not.toContain('SECRET-VALUE');
    expect(error({ ...certificate, passphrase: 'SECRET-VALUE' })).not.toContain('SECRET-VALUE');
  });
});

describe('apnsEndpoints', () => {
  it('defaults to Apple’s hosts and trims slashes', () => {
    expect(apnsEndpoints({})).toEqual({
      productionUrl: 'https://api.push.apple.com',
      sandboxUrl: 'https://api.sandbox.push.apple.com',
    });
    expect(apnsEndpoints({ production_url: 'https://a.example/', sandbox_url: 'https://b.example' })).toEqual(
      {
        productionUrl: 'https://a.example',
        sandboxUrl: 'https://b.example',
      },
    );
  });
});
