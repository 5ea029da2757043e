/** The bodies the fake OPPO PUSH answers with: OPPO's codes and messages. */
import { codeField } from './fake-values.js';
import type { RawAnswer } from './https-fake.js';
import type { FakeOppoAnswer } from './oppo-types.js';
import type { Problem } from './oppo-validation.js';

/** OPPO's return codes with the `message` it sends (its public code table). */
export const FAKE_OPPO_MESSAGES: Readonly<Record<number, string>> = {
  [-2]: 'Service in Flow Control',
  [-1]: 'Service Currently Unavailable',
  0: '',
  11: 'Invalid AuthToken',
  12: 'Http Action Not Allowed',
  13: 'App Call Limited',
  14: 'Invalid App Key',
  15: 'Missing App Key',
  16: 'Invalid Signature',
  17: 'Missing Signature',
  18: 'Missing Timestamp',
  19: 'Invalid Timestamp',
  20: 'Invalid Method',
  21: 'Missing Method',
  22: 'Missing Version',
  23: 'Invalid Version',
  24: 'Unsupported Version',
  25: 'Invalid Encoding',
  26: 'IP Black List',
  27: 'Access Denied',
  28: 'App Disabled',
  29: 'Missing Auth Token',
  30: 'Api Permission Denied',
  31: 'Data Not Exist',
  32: 'Data Duplicate',
  33: 'The number of messages exceeds the daily limit',
  34: 'The number of upload pictures exceeds the daily limit',
  40: 'Missing Required Arguments',
  41: 'Invalid Arguments',
  51: 'Invalid Picture',
  55: 'App Call Frequency Limit',
  59: 'UseSecondaryAction permission denied',
  67: 'Category error/Private classify channel notify_level invalid',
  10000: 'Invalid Registration_id',
};

export function resolveAnswer(answer: FakeOppoAnswer): RawAnswer {
  if (answer === 'ok') return okBody({});
  if (typeof answer === 'number') {
    return {
      status: 200,
      body: JSON.stringify({ code: answer, message: FAKE_OPPO_MESSAGES[answer] ?? 'error' }),
    };
  }
  return answer as RawAnswer;
}

export function okBody(data: unknown): RawAnswer {
  return { status: 200, body: JSON.stringify({ code: 0, message: '', data }) };
}

export function problemAnswer(problem: Problem): FakeOppoAnswer {
  const message = `${FAKE_OPPO_MESSAGES[problem.code] ?? 'error'}: ${problem.detail}`;
  return { status: 200, body: JSON.stringify({ code: problem.code, message }) };
}

export function codeOf(answer: FakeOppoAnswer): number | undefined {
  if (typeof answer === 'number') return answer;
  if (answer === 'ok') return 0;
  if (typeof answer !== 'object') return undefined;
  if ('delayMs' in answer) return codeOf(answer.answer);
  const code = codeField(answer.body);
  return typeof code === 'number' && answer.status === 200 ? code : undefined;
}
