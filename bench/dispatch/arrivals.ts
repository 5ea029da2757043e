/** What the fake APNs receives, counted per run marker and per ring. */
import type { FakeApns, ReceivedApnsRequest } from '../../test/fakes/apns-server.js';

export interface Arrival {
  count: number;
  firstAt: number;
  lastAt: number;
  /** Requests beyond the first for an apns-id (a delivery sent twice). */
  repeats: number;
}

/**
 * One listener on the fake: requests whose payload carries `bench: <marker>` are counted per
 * marker (distinct apns-id); rings are recorded by `ring_id` with the fake's arrival time
 * (`at` = performance.now() in this process).
 */
export class Arrivals {
  private readonly runs = new Map<
    string,
    { ids: Set<string>; arrival: Arrival; expected: number; done: () => void }
  >();
  readonly rings = new Map<string, number>();
  /** Rings that arrived more than once. */
  ringRepeats = 0;

  constructor(fake: FakeApns) {
    fake.on('request', (request) => this.take(request));
  }

  private take(request: ReceivedApnsRequest): void {
    const payload = request.payload as Record<string, unknown> | undefined;
    if (payload === undefined || payload === null) return;
    const marker = payload.bench;
    if (typeof marker === 'string') {
      const run = this.runs.get(marker);
      if (run === undefined) return;
      const id = String(request.headers['apns-id'] ?? request.seq);
      if (run.ids.has(id)) {
        run.arrival.repeats += 1;
        return;
      }
      run.ids.add(id);
      const arrival = run.arrival;
      if (arrival.count === 0) arrival.firstAt = request.at;
      arrival.count += 1;
      arrival.lastAt = request.at;
      if (arrival.count === run.expected) run.done();
      return;
    }
    const ringId = payload.ring_id;
    if (typeof ringId === 'string') {
      if (this.rings.has(ringId)) this.ringRepeats += 1;
      else this.rings.set(ringId, request.at);
    }
  }

  /** Starts counting `marker`; `done` resolves once `expected` distinct requests arrived. */
  expect(
    marker: string,
    expected: number,
    timeoutMs: number,
  ): { done: Promise<Arrival>; now: () => Arrival } {
    const arrival: Arrival = { count: 0, firstAt: Number.NaN, lastAt: Number.NaN, repeats: 0 };
    let resolveDone: () => void = () => {};
    const done = new Promise<Arrival>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new Error(`the fake APNs received ${arrival.count} of ${expected} requests within ${timeoutMs} ms`),
        );
      }, timeoutMs);
      resolveDone = () => {
        clearTimeout(timer);
        this.runs.delete(marker);
        resolve({ ...arrival });
      };
    });
    this.runs.set(marker, { ids: new Set(), arrival, expected, done: resolveDone });
    return { done, now: () => ({ ...arrival }) };
  }
}
