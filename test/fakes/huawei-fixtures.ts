import type { FailureClass, PushMessage } from '../../src/delivery/providers/adapter.js';
import type { FakeHuaweiErrorName } from './huawei-server.js';
import { pushMessage } from './push-message.js';

/** A doorbell message to one Huawei phone, living 30 s from `now`; `overrides` change any field. */
export function huaweiMessage(now: number, overrides: Partial<PushMessage> = {}): PushMessage {
  return pushMessage(now, { expiresAt: now + 30_000, ...overrides });
}

/**
 * How each of the fake's error answers must be classified (reference/providers.md §3.4):
 * class and reason. 80200001 / 80200003 are what remains after one new access token.
 */
export const EXPECTED_HUAWEI_FAILURES: Record<FakeHuaweiErrorName, [FailureClass, string]> = {
  '80100001': ['bad_request', '80100001'],
  '80100002': ['bad_request', '80100002'],
  '80100003': ['bad_request', '80100003'],
  '80100004': ['bad_request', '80100004'],
  '80100013': ['bad_request', '80100013'],
  '80100016': ['bad_request', '80100016'],
  '80100017': ['retry', '80100017'],
  '80100018': ['bad_request', '80100018'],
  '80200001': ['creds', '80200001'],
  '80200003': ['retry', '80200003'],
  '80300002': ['creds', '80300002'],
  '80300007': ['dead', '80300007'],
  '80300008': ['bad_request', '80300008'],
  '80300010': ['bad_request', '80300010'],
  '80300011': ['creds', '80300011'],
  '80300013': ['bad_request', '80300013'],
  '80600003': ['creds', '80600003'],
  '81000001': ['retry', '81000001'],
  FLOW_CONTROL: ['retry', 'flow_control'],
};
