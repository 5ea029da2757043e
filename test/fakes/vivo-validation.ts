/** vivo's checks of a send's notification fields and `requestId`, answered as vivo answers them. */
import {
  VIVO_OPERATION_CATEGORIES,
  VIVO_SYSTEM_CATEGORIES,
} from '../../src/delivery/providers/vivo/vivo.config.js';
import type { RawAnswer } from './https-fake.js';
import { paramError, vivoBody } from './vivo-answers.js';

/** vivo's measure of `title` / `content`: a character beyond Latin-1 counts as two. */
export function weight(text: string): number {
  let total = 0;
  for (const character of text) total += (character.codePointAt(0) ?? 0) > 0xff ? 2 : 1;
  return total;
}

export const isInt = (value: unknown): value is number =>
  typeof value === 'number' && Number.isInteger(value);

/** The notification fields `message/send` and `saveListPayload` share; a problem as vivo answers it. */
export function checkNotification(body: Record<string, unknown>): RawAnswer | undefined {
  const { notifyType, title, content, timeToLive, skipType, classification, category } = body;
  if (!isInt(notifyType) || notifyType < 1 || notifyType > 4) return paramError('notifyType');
  if (typeof title !== 'string' || title === '' || weight(title) > 40) return paramError('title');
  if (typeof content !== 'string' || content === '' || weight(content) > 100) return paramError('content');
  if (timeToLive !== undefined && (!isInt(timeToLive) || timeToLive < 60 || timeToLive > 86_400)) {
    return paramError('timeToLive');
  }
  if (!isInt(skipType) || skipType < 1 || skipType > 4) return paramError('skipType');
  if (body.networkType !== undefined && body.networkType !== -1 && body.networkType !== 1) {
    return paramError('networkType');
  }
  if (classification !== undefined && classification !== 0 && classification !== 1) {
    return paramError('classification');
  }
  if (category !== undefined) {
    const system = VIVO_SYSTEM_CATEGORIES.includes(String(category));
    const operation = VIVO_OPERATION_CATEGORIES.includes(String(category));
    if (!system && !operation) return { status: 200, body: vivoBody(10096) };
    if (system !== (classification === 1)) return { status: 200, body: vivoBody(10097) };
  }
  const map = body.clientCustomMap;
  if (map !== undefined) {
    if (typeof map !== 'object' || map === null || Array.isArray(map)) return paramError('clientCustomMap');
    const entries = Object.entries(map);
    const size = entries.reduce((sum, [key, value]) => sum + key.length + String(value).length, 0);
    if (entries.length > 10 || size > 1024 || entries.some(([, value]) => typeof value !== 'string')) {
      return paramError('clientCustomMap');
    }
  }
  if (body.notifyId !== undefined && (!isInt(body.notifyId) || body.notifyId < 1))
    return paramError('notifyId');
  return checkRequestId(body);
}

export function checkRequestId(body: Record<string, unknown>): RawAnswer | undefined {
  const { requestId } = body;
  if (typeof requestId !== 'string' || requestId === '' || requestId.length > 64)
    return paramError('requestId');
  return undefined;
}
