import type { Clock } from '../../src/clock.js';

/** A clock that moves only when a test moves it. */
export class ManualClock implements Clock {
  constructor(private current = Date.UTC(2026, 10, 30, 12, 0, 0)) {}

  now(): number {
    return this.current;
  }

  advance(ms: number): void {
    this.current += ms;
  }
}
