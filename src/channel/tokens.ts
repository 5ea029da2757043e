import { createHmac, timingSafeEqual } from 'node:crypto';

/** What a phone tells the channel about itself in its register frame. */
export interface DeviceIdentity {
  bundleId: string;
  imei: string;
  imsi: string;
}

/** Every push token the channel issues starts with this, so routing can tell them apart. */
export const CHANNEL_TOKEN_PREFIX = 'bhc1_';
const ID_BYTES = 16;
const TAG_BYTES = 8;
const encodedLength = Math.ceil(((ID_BYTES + TAG_BYTES) * 4) / 3);

/**
 * Push tokens of the channel: `bhc1_` + base64url(id ‖ tag), where id is an HMAC of the
 * device identity and tag an HMAC of the id, both under a server secret. The same phone
 * gets the same token on every connection, in every process and after a restart (the
 * secret is derived from the master key), so an app re-registers only when something
 * really changed; without the secret a token can be neither guessed nor forged.
 */
export function createChannelTokens(secret: Buffer) {
  const mac = (label: string, data: Buffer | string) =>
    createHmac('sha256', secret).update(label).update('\u0000').update(data).digest();
  const tagOf = (id: Buffer) => mac('tag', id).subarray(0, TAG_BYTES);

  return {
    issue(identity: DeviceIdentity): string {
      const id = mac(
        'id',
        [identity.bundleId, identity.imei, identity.imsi]
          .map((part) => part.replaceAll('\u0000', ''))
          .join('\u0000'),
      ).subarray(0, ID_BYTES);
      return `${CHANNEL_TOKEN_PREFIX}${Buffer.concat([id, tagOf(id)]).toString('base64url')}`;
    },

    /** True for a token this server issued (one made with the same secret). */
    verify(token: string): boolean {
      if (!token.startsWith(CHANNEL_TOKEN_PREFIX)) return false;
      const encoded = token.slice(CHANNEL_TOKEN_PREFIX.length);
      if (encoded.length !== encodedLength || !/^[A-Za-z0-9_-]+$/.test(encoded)) return false;
      const bytes = Buffer.from(encoded, 'base64url');
      if (bytes.length !== ID_BYTES + TAG_BYTES) return false;
      return timingSafeEqual(bytes.subarray(ID_BYTES), tagOf(bytes.subarray(0, ID_BYTES)));
    },
  };
}

export type ChannelTokens = ReturnType<typeof createChannelTokens>;
