const CHINA_OFFSET_MS = 8 * 3_600_000;
const DAY_MS = 24 * 3_600_000;

/**
 * Milliseconds from `now` (Unix ms) to the next midnight in China (UTC+8, no daylight saving),
 * when the daily quotas of the Chinese push services start again.
 */
export function msUntilChinaMidnight(now: number): number {
  const local = now + CHINA_OFFSET_MS;
  return (Math.floor(local / DAY_MS) + 1) * DAY_MS - local;
}
