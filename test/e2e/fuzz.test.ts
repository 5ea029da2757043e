import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { testDialects } from '../helpers/app.js';
import { FuzzTarget, fuzzTimeout, numRuns, seed } from '../helpers/fuzz.js';
import { requestArb, serverRequestArb } from '../helpers/fuzz-requests.js';

/**
 * Random requests on every route and on made-up ones, then on the push and admin routes with a
 * valid admin key, all against one app: each answer is below 500, every error is a catalogue
 * `{message, code}`, and the app still serves a session afterwards.
 */
describe.each(testDialects())('fuzzing every route on %s', (dialect) => {
  let target: FuzzTarget;

  beforeAll(async () => {
    target = await FuzzTarget.start(dialect);
  });
  afterAll(async () => {
    await target.close();
  });

  it(
    `answers ${numRuns} random requests below 500 with catalogue errors (seed ${seed})`,
    async () => {
      await fc.assert(target.answersWell(requestArb), { seed, numRuns });
      target.printStats(dialect);
    },
    fuzzTimeout(numRuns),
  );

  const serverRuns = Math.ceil(numRuns / 2);
  it(
    `answers ${serverRuns} random server-to-server requests with a valid key below 500 (seed ${seed})`,
    async () => {
      await fc.assert(target.answersWell(serverRequestArb), { seed, numRuns: serverRuns });
    },
    fuzzTimeout(serverRuns),
  );

  it('still serves a valid session after the fuzzing', async () => {
    await target.expectStillServing();
  });
});
