/** MiPush's error answers by name, and how the fake writes and reads MiPush's JSON. */
import { codeField } from './fake-values.js';
import type { RawAnswer } from './https-fake.js';

export interface MiPushError {
  code: number;
  reason: string;
  description: string;
}

/**
 * MiPush's error answers by name. The bodies of 20301, 21301 and 65011 are copied from real
 * answers (reference/providers.md X5); the others follow the same shape with the meaning of
 * Xiaomi's code table (X2), whose exact `reason` texts were not in any stored source.
 */
export const FAKE_XIAOMI_ERRORS = {
  NO_VALID_TARGETS: { code: 20301, reason: 'No valid targets!', description: '发送消息失败' },
  INVALID_APP_SECRET: { code: 21301, reason: 'Invalid application secret.', description: '认证失败' },
  EMPTY_TITLE: { code: 65011, reason: 'Title or Description is empty!', description: '未提供参数' },
  SYSTEM_ERROR: { code: 10001, reason: 'System error.', description: '系统错误' },
  SYSTEM_BUSY: { code: 10002, reason: 'System is busy.', description: '系统繁忙' },
  TOO_FREQUENT: { code: 10027, reason: 'Requests are too frequent.', description: '应用请求频率过快' },
  DAILY_QUOTA: {
    code: 10034,
    reason: 'Too many messages sent by the app today.',
    description: '当日发送消息数量超过限制',
  },
  DAILY_LIMIT: { code: 200001, reason: 'Daily push limit exceeded.', description: '超过当日推送上限' },
  REQUEST_EXPIRED: { code: 10037, reason: 'Request expired.', description: '请求已过期' },
  MISSING_PARAMETER: { code: 10016, reason: 'Missing parameter.', description: '缺失必选参数' },
  ILLEGAL_PARAMETER: { code: 10017, reason: 'Illegal parameter value.', description: '非法参数值' },
  CONTENT_TOO_LONG: { code: 65009, reason: 'Message content too long.', description: '消息内容过长' },
  DEVICE_NOT_FOUND: { code: 65003, reason: 'Device not found.', description: '设备不存在' },
  APP_BLACKLISTED: { code: 10031, reason: 'App is in the blacklist.', description: '应用被加入黑名单' },
  ILLEGAL_PACKAGE: { code: 22022, reason: 'Illegal package name.', description: '非法的包名' },
  CHANNEL_MISMATCH: { code: 27001, reason: 'Channel info mismatch.', description: '通道信息不匹配' },
} as const satisfies Record<string, MiPushError>;

export type FakeXiaomiErrorName = keyof typeof FAKE_XIAOMI_ERRORS;

export function json(body: unknown): RawAnswer {
  return { status: 200, body: JSON.stringify(body) };
}

export function codeOf(body: string): number | undefined {
  const code = codeField(body);
  return typeof code === 'number' ? code : undefined;
}
