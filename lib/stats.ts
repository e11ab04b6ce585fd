// The figures of the stats endpoints (DESIGN §12), computed from the hourly rollups' sums: bucket
// ranges, percentiles from log histograms, and the seed's success metrics as rates.

/** A log histogram as the rollups keep it: {"<bin>": count}, bin b holding (1.1^(b-1), 1.1^b] ms (oriva.log_bin). */
export type LogHistogram = Record<string, number | string>;

export const STAT_COUNTS = ['created', 'suppressed', 'delivered', 'read', 'clicked', 'dismissed', 'expired', 'emails_sent', 'emails_failed', 'webhook_ok', 'webhook_failed'] as const;
export type StatCount = (typeof STAT_COUNTS)[number];

export type Interval = 'hour' | 'day';
export const INTERVAL_MS: Record<Interval, number> = { hour: 3_600_000, day: 86_400_000 };
export const MAX_BUCKETS = 400;

/** The upper bound of a bin in ms, as a whole number (bin 0: 1 ms). */
export function binUpperMs(bin: number): number {
  return bin <= 0 ? 1 : Math.round(1.1 ** bin);
}

/**
 * The q-quantile (0 < q <= 1) of a log histogram, as its bin's upper bound: at most 10% above the true
 * value. Null when the histogram is empty.
 */
export function percentileMs(histogram: LogHistogram, q: number): number | null {
  const bins = Object.entries(histogram)
    .map(([bin, n]) => [Number(bin), Number(n)] as const)
    .filter(([, n]) => n > 0)
    .sort((a, b) => a[0] - b[0]);
  const total = bins.reduce((sum, [, n]) => sum + n, 0);
  if (total === 0) return null;
  const rank = Math.ceil(q * total);
  let seen = 0;
  for (const [bin, n] of bins) {
    seen += n;
    if (seen >= rank) return binUpperMs(bin);
  }
  return binUpperMs(bins.at(-1)![0]);
}

export function mergeHistograms(a: LogHistogram, b: LogHistogram): LogHistogram {
  const merged: Record<string, number> = {};
  for (const h of [a, b]) for (const [bin, n] of Object.entries(h)) merged[bin] = (merged[bin] ?? 0) + Number(n);
  return merged;
}

const ratio = (part: number, whole: number) => (whole > 0 ? Math.round((part / whole) * 10_000) / 10_000 : null);

/**
 * The seed's success metrics (targets: viewed ≥ 80%, delivery failures < 5%, acted > 30%, webhook
 * success > 95%), each null when its denominator is 0:
 *   viewed = read / delivered, acted = clicked / delivered,
 *   delivery_failures = (failed webhook attempts + failed emails) / (webhook attempts + emails),
 *   webhook_success = ok / webhook attempts.
 */
export function successRates(t: Record<StatCount, number>) {
  const attempts = t.webhook_ok + t.webhook_failed;
  return {
    viewed: ratio(t.read, t.delivered),
    acted: ratio(t.clicked, t.delivered),
    delivery_failures: ratio(t.webhook_failed + t.emails_failed, attempts + t.emails_sent + t.emails_failed),
    webhook_success: ratio(t.webhook_ok, attempts),
  };
}

/** The start of the bucket holding `at` (UTC hours and days). */
export function bucketStart(at: Date, interval: Interval): Date {
  const step = INTERVAL_MS[interval];
  return new Date(Math.floor(at.getTime() / step) * step);
}

/** The bucket starts of [from, to) for an interval: from rounded down to the interval. */
export function bucketStarts(from: Date, to: Date, interval: Interval): Date[] {
  const starts: Date[] = [];
  for (let t = bucketStart(from, interval).getTime(); t < to.getTime(); t += INTERVAL_MS[interval]) starts.push(new Date(t));
  return starts;
}

export function bucketCount(from: Date, to: Date, interval: Interval): number {
  return Math.ceil((to.getTime() - bucketStart(from, interval).getTime()) / INTERVAL_MS[interval]);
}
