// GET /apps/:appId/stats (the app's own) and GET /stats (platform apps: every app, one app, and a
// table per app) — DESIGN §12. They read the hourly rollups (oriva.notification_stats_hourly,
// oriva.webhook_stats_hourly), which the worker keeps (worker/stats/rollup.ts, the email and webhook
// triggers), never the event log; row-level security keeps an app to its own rows.
import type Router from '@koa/router';
import { callerKey } from '../../lib/callers.js';
import { run, type PoolClient } from '../../lib/db.js';
import { badRequest, forbidden } from '../../lib/errors.js';
import { appId, closed, nullableTimestamp, plainLine, timestamp } from '../../lib/schemas/common.js';
import { NOTIFICATION_CATEGORIES } from '../../lib/schemas/notifications.js';
import { sqlFile, sqlStatement } from '../../lib/sql.js';
import {
  bucketCount, bucketStart, bucketStarts, INTERVAL_MS, MAX_BUCKETS, mergeHistograms, percentileMs, STAT_COUNTS, successRates,
  type Interval, type LogHistogram, type StatCount,
} from '../../lib/stats.js';
import { defineRoute, type RouteDeps } from './define.js';

interface NotificationRow {
  start: Date;
  created: string; suppressed: string; delivered: string; read: string; clicked: string; dismissed: string;
  expired: string; emails_sent: string; emails_failed: string;
  time_to_read: LogHistogram;
}
interface WebhookRow { start: Date; ok: string; failed: string; latency: LogHistogram }
type PerAppRow = Omit<NotificationRow, 'start'> & { app_id: string; name: string; ok: string; failed: string; latency: LogHistogram };

const notificationStats = sqlStatement<{ unit: Interval; from: Date; to: Date; app_id: string | null; notification_type: string | null; category: string | null }, NotificationRow>('stats/notifications');
const webhookStats = sqlFile('stats/webhooks');
const perAppStats = sqlFile('stats/per_app');
const rolledUp = sqlFile('stats/rolled_up');

const count = { type: 'integer', minimum: 0 } as const;
const nullableMs = { type: ['integer', 'null'], minimum: 0, description: 'ms, from a log histogram: at most 10% above the true value; null with nothing to measure' } as const;
const countFields = Object.fromEntries(STAT_COUNTS.map((name) => [name, count])) as Record<StatCount, typeof count>;
const figureFields = {
  ...countFields,
  webhook_p95_ms: nullableMs,
  time_to_read_p50_ms: nullableMs,
  time_to_read_p95_ms: nullableMs,
};
const nullableRate = { type: ['number', 'null'], minimum: 0, maximum: 1 } as const;
const rates = closed({
  viewed: { ...nullableRate, description: 'read / delivered (target ≥ 0.8)' },
  acted: { ...nullableRate, description: 'clicked / delivered (target > 0.3)' },
  delivery_failures: { ...nullableRate, description: '(failed webhook attempts + failed emails) / (webhook attempts + emails) (target < 0.05)' },
  webhook_success: { ...nullableRate, description: 'ok / webhook attempts (target > 0.95)' },
});
const bucket = closed({ start: { ...timestamp, description: 'the bucket\'s first hour (UTC)' }, ...figureFields });
const totals = closed(figureFields);

const statsFields = {
  success: { const: true },
  app_id: { type: ['string', 'null'], description: 'the app these figures are of (null: every app)' },
  interval: { enum: ['hour', 'day'] },
  from: { ...timestamp, description: 'the first bucket\'s start' },
  to: { ...timestamp, description: 'the end of the range (exclusive)' },
  rolled_up_to: { ...nullableTimestamp, description: 'when the rollups last caught up with the event log (they run every minute)' },
  buckets: { type: 'array', items: bucket, description: 'every bucket of the range, oldest first, zeros included' },
  totals,
  rates,
};
export const statsResult = closed(statsFields);
const appRow = closed({ app_id: appId, name: { type: 'string' }, totals, rates });
export const platformStatsResult = closed({ ...statsFields, apps: { type: 'array', items: appRow, description: 'every app with figures in the range (whatever app_id asks), busiest first' } });

const statsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    from: { ...timestamp, description: 'start of the range (rounded down to the interval); default: to minus 24 hours (hour) or 30 days (day)' },
    to: { ...timestamp, description: 'end of the range, exclusive; default: now' },
    interval: { enum: ['hour', 'day'], default: 'hour' },
    notification_type: { ...plainLine(1, 64), description: 'only this notification_type (webhook figures are per app, not per type)' },
    category: { enum: NOTIFICATION_CATEGORIES, description: 'only this category (webhook figures are per app, not per category)' },
  },
} as const;

interface StatsQuery { from?: string; to?: string; interval: Interval; notification_type?: string; category?: string; app_id?: string }

const example = {
  success: true, app_id: 'work-buddy', interval: 'day', from: '2026-12-01T00:00:00.000Z', to: '2026-12-02T00:00:00.000Z',
  rolled_up_to: '2026-12-02T09:41:00.000Z',
  buckets: [{ start: '2026-12-01T00:00:00.000Z', created: 120, suppressed: 4, delivered: 116, read: 93, clicked: 41, dismissed: 12, expired: 3, emails_sent: 9, emails_failed: 0, webhook_ok: 310, webhook_failed: 2, webhook_p95_ms: 212, time_to_read_p50_ms: 95_940, time_to_read_p95_ms: 1_853_024 }],
  totals: { created: 120, suppressed: 4, delivered: 116, read: 93, clicked: 41, dismissed: 12, expired: 3, emails_sent: 9, emails_failed: 0, webhook_ok: 310, webhook_failed: 2, webhook_p95_ms: 212, time_to_read_p50_ms: 95_940, time_to_read_p95_ms: 1_853_024 },
  rates: { viewed: 0.8017, acted: 0.3534, delivery_failures: 0.0062, webhook_success: 0.9936 },
};

/** The range a query asks for, or a 400 naming what is wrong with it. */
function rangeOf(query: StatsQuery): { from: Date; to: Date; interval: Interval } {
  const interval = query.interval;
  const to = query.to ? new Date(query.to) : new Date();
  const from = query.from ? new Date(query.from) : new Date(to.getTime() - (interval === 'hour' ? 24 : 30 * 24) * INTERVAL_MS.hour);
  if (from.getTime() >= to.getTime()) throw badRequest('from must be before to', [{ path: 'query.from', message: 'must be before to' }]);
  const buckets = bucketCount(from, to, interval);
  if (buckets > MAX_BUCKETS) {
    throw badRequest(`The range holds ${buckets} ${interval} buckets; at most ${MAX_BUCKETS}`, [{ path: 'query.from', message: `at most ${MAX_BUCKETS} buckets` }]);
  }
  return { from: bucketStart(from, interval), to, interval };
}

const n = (value: string | number | undefined) => Number(value ?? 0);

function figures(counts: Record<StatCount, number>, timeToRead: LogHistogram, latency: LogHistogram) {
  return {
    ...counts,
    webhook_p95_ms: percentileMs(latency, 0.95),
    time_to_read_p50_ms: percentileMs(timeToRead, 0.5),
    time_to_read_p95_ms: percentileMs(timeToRead, 0.95),
  };
}

function countsOf(row: Partial<Omit<NotificationRow, 'start' | 'time_to_read'>> | undefined, hooks: { ok?: string; failed?: string } | undefined): Record<StatCount, number> {
  return {
    created: n(row?.created), suppressed: n(row?.suppressed), delivered: n(row?.delivered), read: n(row?.read),
    clicked: n(row?.clicked), dismissed: n(row?.dismissed), expired: n(row?.expired), emails_sent: n(row?.emails_sent),
    emails_failed: n(row?.emails_failed), webhook_ok: n(hooks?.ok), webhook_failed: n(hooks?.failed),
  };
}

/** The buckets, totals and rates of one app (or every app the caller may read: appId null). */
async function statsOf(client: PoolClient, appId: string | null, query: StatsQuery) {
  const { from, to, interval } = rangeOf(query);
  const [notifications, webhooks, [progress]] = [
    await run(client, notificationStats, { unit: interval, from, to, app_id: appId, notification_type: query.notification_type ?? null, category: query.category ?? null }),
    await run<WebhookRow>(client, webhookStats, [appId, from, to, interval]),
    await run<{ rolled_up_at: Date | null }>(client, rolledUp),
  ];
  const byStart = new Map(notifications.map((row) => [row.start.getTime(), row]));
  const hooksByStart = new Map(webhooks.map((row) => [row.start.getTime(), row]));
  let total = countsOf(undefined, undefined);
  let timeToRead: LogHistogram = {};
  let latency: LogHistogram = {};
  const buckets = bucketStarts(from, to, interval).map((start) => {
    const row = byStart.get(start.getTime());
    const hooks = hooksByStart.get(start.getTime());
    const counts = countsOf(row, hooks);
    total = Object.fromEntries(STAT_COUNTS.map((k) => [k, total[k] + counts[k]])) as Record<StatCount, number>;
    timeToRead = mergeHistograms(timeToRead, row?.time_to_read ?? {});
    latency = mergeHistograms(latency, hooks?.latency ?? {});
    return { start: start.toISOString(), ...figures(counts, row?.time_to_read ?? {}, hooks?.latency ?? {}) };
  });
  return {
    success: true as const, app_id: appId, interval, from: from.toISOString(), to: to.toISOString(),
    rolled_up_to: progress?.rolled_up_at ? progress.rolled_up_at.toISOString() : null,
    buckets, totals: figures(total, timeToRead, latency), rates: successRates(total),
  };
}

export function statsRoutes(router: Router, deps: RouteDeps): void {
  defineRoute<{ appId: string }, StatsQuery>(router, deps, {
    method: 'get',
    path: '/apps/:appId/stats',
    operationId: 'getAppStats',
    summary: "An app's stats per hour or day",
    description: 'Counts are of notifications created in each bucket (read = ever read or clicked, clicked, dismissed = ever; a broadcast is one created notification, delivered to its audience), emails sent and failed, webhook attempts ok and failed with their p95 latency (per app: not split by type or category), time to read p50/p95, and the success rates. From the hourly rollups, which trail the event log by up to a minute (rolled_up_to). At most 400 buckets; hours and days are UTC.',
    tag: 'Stats',
    who: 'app',
    params: { type: 'object', required: ['appId'], properties: { appId } },
    query: statsQuery,
    rateLimit: { name: 'queries', key: callerKey },
    success: { status: 200, description: 'The stats', schema: statsResult, example },
    errors: [400, 403, 429],
  }, async ({ params, query, read }) => ({ status: 200, body: await read((client) => statsOf(client, params.appId, query)) }));

  defineRoute<Record<string, never>, StatsQuery>(router, deps, {
    method: 'get',
    path: '/stats',
    operationId: 'getPlatformStats',
    summary: 'Stats of every app, or of one (platform apps)',
    description: 'The figures of GET /apps/{appId}/stats for every app together (or for app_id), and each app\'s totals and rates over the range. For platform apps only.',
    tag: 'Stats',
    who: 'app',
    query: { ...statsQuery, properties: { ...statsQuery.properties, app_id: { ...appId, description: 'only this app\'s buckets and totals' } } },
    rateLimit: { name: 'queries', key: callerKey },
    success: { status: 200, description: 'The stats', schema: platformStatsResult, example: { ...example, app_id: null, apps: [{ app_id: 'work-buddy', name: 'Work Buddy', totals: example.totals, rates: example.rates }] } },
    errors: [400, 403, 429],
  }, async ({ caller, query, read }) => {
    if (caller.kind !== 'app' || !caller.platform) throw forbidden('Platform-wide stats are for platform apps');
    const body = await read(async (client) => {
      const stats = await statsOf(client, query.app_id ?? null, query);
      const perApp = await run<PerAppRow>(client, perAppStats, [stats.from, stats.to]);
      const apps = perApp.map((row) => {
        const counts = countsOf(row, row);
        return { app_id: row.app_id, name: row.name, totals: figures(counts, row.time_to_read, row.latency), rates: successRates(counts) };
      });
      return { ...stats, apps };
    });
    return { status: 200, body };
  });
}
