/** vivo's answers: its result codes and wording, as the bodies it sends. */
import type { RawAnswer } from './https-fake.js';

/** vivo's result codes the fake answers, with vivo's wording. */
export const FAKE_VIVO_RESULTS = {
  /** Permission check failed: a wrong signature at auth, an expired or unknown authToken later. */
  10000: '权限认证失败',
  /** A parameter is missing or wrong (code UNCONFIRMED: not in the reference, see vivo-server.ts). */
  10050: '参数不合法',
  10070: '超过当日推送总量',
  10072: '推送频率过快',
  10096: '二级分类不合法',
  10097: '二级分类与消息类型不匹配',
  10252: '超过每日调用次数',
  10302: 'regId不合法',
} as const;

export type FakeVivoResult = keyof typeof FAKE_VIVO_RESULTS;

export function vivoBody(result: number, extra: Record<string, unknown> = {}): string {
  const desc = result === 0 ? '请求成功' : (FAKE_VIVO_RESULTS[result as FakeVivoResult] ?? '失败');
  return JSON.stringify({ result, desc, ...extra });
}

export function paramError(field: string): RawAnswer {
  return {
    status: 200,
    body: JSON.stringify({ result: 10050, desc: `${FAKE_VIVO_RESULTS[10050]}: ${field}` }),
  };
}

export function resultOf(body: string): number | undefined {
  const match = /^\{"result":(-?\d+)/.exec(body);
  return match === null ? undefined : Number(match[1]);
}
