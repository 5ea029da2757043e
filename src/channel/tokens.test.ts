import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSecretBox } from '../crypto/secret-box.js';
import { createChannelTokens } from './tokens.js';

const phone = { bundleId: 'com.lancens.wxdoorbell', imei: '860000000000001', imsi: '460001234567890' };

describe('push channel tokens', () => {
  it('are the same for the same phone, with the same master key, in any process', () => {
    const key = randomBytes(32);
    const one = createChannelTokens(createSecretBox(key).deriveKey('push channel tokens'));
    const two = createChannelTokens(createSecretBox(Buffer.from(key)).deriveKey('push channel tokens'));
    expect(one.issue(phone)).toBe(two.issue({ ...phone }));
    expect(one.issue(phone)).toMatch(/^bhc1_[A-Za-z0-9_-]{32}$/);
  });

  it('differ between phones, apps and servers', () => {
    const tokens = createChannelTokens(randomBytes(32));
    const token = tokens.issue(phone);
    expect(tokens.issue({ ...phone, imei: '860000000000002' })).not.toBe(token);
    expect(tokens.issue({ ...phone, imsi: '' })).not.toBe(token);
    expect(tokens.issue({ ...phone, bundleId: 'com.example.other' })).not.toBe(token);
    // Field boundaries count: moving characters from one field to the next is another phone.
    expect(tokens.issue({ ...phone, imei: '86000000000000', imsi: `1${phone.imsi}` })).not.toBe(token);
    expect(createChannelTokens(randomBytes(32)).issue(phone)).not.toBe(token);
  });

  it('are recognised only when this server issued them', () => {
    const tokens = createChannelTokens(randomBytes(32));
    const token = tokens.issue(phone);
    expect(tokens.verify(token)).toBe(true);
    expect(createChannelTokens(randomBytes(32)).verify(token)).toBe(false);
    const last = token.at(-1) === 'A' ? 'B' : 'A';
    expect(tokens.verify(`${token.slice(0, -1)}${last}`)).toBe(false);
    expect(tokens.verify(token.slice(0, -1))).toBe(false);
    expect(tokens.verify(`bhc1_${'A'.repeat(32)}`)).toBe(false);
    expect(tokens.verify('fcm-token-of-some-phone')).toBe(false);
    expect(tokens.verify('')).toBe(false);
  });
});
