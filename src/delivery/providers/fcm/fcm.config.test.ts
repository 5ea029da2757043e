import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FAKE_FCM_CA, fakeServiceAccount } from '../../../../test/fakes/fcm-server.js';
import { validateFcmSettings } from './fcm.config.js';

describe('validateFcmSettings', () => {
  const account = fakeServiceAccount('https://oauth2.googleapis.com/token');

  it('accepts a service-account key file and fills in the defaults', () => {
    const { token_uri: _omitted, ...withoutTokenUri } = account;
    const check = validateFcmSettings({ service_account: withoutTokenUri });
    expect(check.ok).toBe(true);
    if (!check.ok) return;
    expect(check.settings).toMatchObject({
      projectId: 'bellhop-test',
      clientEmail: account.client_email,
      privateKeyId: account.private_key_id,
      tokenUri: 'https://oauth2.googleapis.com/token',
      baseUrl: 'https://fcm.googleapis.com',
      ca: undefined,
    });
    expect(check.settings.privateKey.asymmetricKeyType).toBe('rsa');
  });

  it('accepts a url override and a CA', () => {
    const check = validateFcmSettings({
      service_account: account,
      url: 'https://proxy.example/fcm/',
      ca: FAKE_FCM_CA,
    });
    expect(check.ok && check.settings.baseUrl).toBe('https://proxy.example/fcm');
  });

  const ecKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({
    type: 'pkcs8',
    format: 'pem',
  }) as string;
  const { client_email: _e, ...noEmail } = account;
  const cases: Array<[string, unknown, RegExp]> = [
    ['not an object', 'x', /JSON object/],
    ['no service account', {}, /service_account is required/],
    ['the key file as a string', { service_account: JSON.stringify(account) }, /not a string/],
    ['an unknown field', { service_account: account, CA: 'x' }, /unknown field `CA`/],
    ['no client_email', { service_account: noEmail }, /missing client_email/],
    ['a bad client_email', { service_account: { ...account, client_email: 'nobody' } }, /client_email/],
    ['another type', { service_account: { ...account, type: 'authorized_user' } }, /service_account\.type/],
    ['a bad project id', { service_account: { ...account, project_id: '../x' } }, /project_id/],
    [
      'a key that is not PEM',
      { service_account: { ...account, private_key: 'secret-bytes' } },
      /not a readable PEM/,
    ],
    ['an EC key', { service_account: { ...account, private_key: ecKey } }, /must be an RSA key \(got ec\)/],
    ['an http token_uri', { service_account: { ...account, token_uri: 'http://x/token' } }, /https URL/],
    ['a bad url', { service_account: account, url: 'fcm.googleapis.com' }, /url is not a valid URL/],
    ['a url with a query', { service_account: account, url: 'https://x/?a=1' }, /query/],
    ['a ca without certificates', { service_account: account, ca: 'hello' }, /PEM certificate/],
  ];
  for (const [name, input, message] of cases) {
    it(`refuses ${name}`, () => {
      const check = validateFcmSettings(input);
      expect(check.ok).toBe(false);
      if (check.ok) return;
      expect(check.error).toMatch(message);
      expect(check.error).not.toContain('secret-bytes');
      expect(check.error).not.toContain('PRIVATE KEY-----\n');
    });
  }
});
