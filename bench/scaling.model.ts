// A capacity model, not a bench: `npx tsx bench/scaling.model.ts` (npm run bench does not run it:
// bench/run.ts runs *.bench.ts only). It turns the figures `npm run bench` measured on this 2-core
// machine into costs per operation, and sizes a deployment for a workload: Postgres primaries
// (shards) and read replicas, API processes, workers, gateways. docs/scaling.md explains it and shows
// its output. Deterministic, no dependencies, no database.
//
// The method: cost of an operation = the 2 cores of the machine ÷ the rate measured when those cores
// were saturated. The load generator and other work shared the cores, so each cost is an upper bound
// and the model errs towards more hardware. Each resource is then filled to a utilisation cap (UTIL).

const BENCH_CORES = 2;

/** Measured by `npm run bench` on this machine (fsync on, synchronous_commit=on, Postgres 18, loopback). */
const MEASURED = {
  /** api.bench.ts "POST notification max (32 concurrent)", req/s: API + Postgres + load generator on the 2 cores. */
  apiCreateMaxPerS: 839,
  /** api.bench.ts "direct SQL (pg, 32 concurrent)", tx/s: the same create transaction straight over pg. */
  directCreateTxPerS: 1_119,
  /** api.bench.ts "POST notification at 500 req/s", p99 ms (target < 25): queueing for CPU on 2 cores. */
  apiCreateP99At500Ms: 55,
  /**
   * api.bench.ts "batch endpoint (100 per request, 4 concurrent)" "CPU per notification": the API
   * server's and Postgres' µs, the high ends of six runs on 2026-12-07 (server 25–35, Postgres
   * 217–272; the batch at 5.5–7.2k notifications/s in a slow hour, 7.8–8.4k/s on faster days, when the
   * split was not printed yet).
   */
  batchServerUs: 35,
  batchPostgresUs: 272,
  /**
   * One INSERT + NOTIFY per transaction, tx/s (2.7–3.4k; 10-row batches: 18k rows/s). Not printed by
   * any bench in bench/: the figure comes from the issue; DESIGN §7 "facts" says 3–5k. NOTIFY holds a
   * global lock from pre-commit through the WAL flush, so these commits are serialised: a limit per
   * Postgres cluster set by commit (fsync) latency, not by cores.
   */
  notifyTxPerS: 2_700,
  notifyBatch10RowsPerS: 18_000,
  /** webhooks.bench.ts "CPU per delivery while draining": the worker's µs (357–474; 734 before the local queue and the dispatch client), the high end. */
  webhookWorkerUs: 474,
  /** webhooks.bench.ts "CPU per delivery while draining": Postgres µs (295–365), the high end. */
  webhookPostgresUs: 365,
  /**
   * Postgres µs to enqueue one job in the writing transaction (graphile_worker.add_jobs through our
   * functions, generic plans): ~350 for a statement's only delivery, ~32 each when one statement fans out
   * to many (migration 000025, timed over 1,000 and 3,000 calls with psql). The one-job figure, an upper bound.
   */
  enqueueOneJobUs: 350,
  /** email.bench.ts "digests (one email per user …)", emails/s (719–726). */
  emailsPerS: 719,
  /** email.bench.ts "CPU per email while draining": worker, Postgres (825–1,114: the high end), SMTP sink. */
  emailWorkerUs: 920,
  emailPostgresUs: 1_114,
  emailSinkUs: 225,
  /** gateway.bench.ts part 1: connections one gateway process held (the per-process open-file limit here is 20,000). */
  gatewayConnections: 19_000,
  /** gateway.bench.ts part 1: RSS per connection at 19,000 (7.8 KB measured at 2,000). */
  gatewayKbPerConnection: 2.5,
  /** gateway.bench.ts part 3 (a small run: GATEWAY_BENCH_FANOUT=1000 app connections), messages/s of one process. */
  gatewayFanoutMsgPerS: 59_000,
  /** gateway.bench.ts part 2: commit → receive p99 ms at 500 events/s (5–15). */
  gatewayP99At500Ms: 15,
  /** stats.bench.ts: GET stats, 30 days by hour (two requests of 360 hours, summed), p99 ms. */
  stats30DaysHourlyP99Ms: 83,
  /** api.bench.ts "feed max (16 concurrent)", user with 10,000 notifications, req/s (275 since the feed reads each source in index order; 37–42 before). */
  feedHeavyUserReadsPerS: 275,
} as const;

/** Not measured: each says why the value is what it is. Replace them when a bench measures them. */
const ASSUMED = {
  /** Cores up to which one Postgres' CPU is taken to scale linearly (then WAL insertion, locks and memory bandwidth flatten it). */
  maxCoresPerPrimary: 32,
  /** Notifications per batch request: the size the batch figure was measured at. */
  batchSize: 100,
  /** API process CPU per feed read, µs (JSON of 50 items; the feed's cost is in Postgres). */
  apiFeedUs: 1_000,
  /** Postgres CPU per event for every gateway reading it (gateway/listener.ts: every gateway reads every event of its database; sql/gateway/settled_range.sql, unread_counts.sql). */
  pgGatewayReadUsPerEvent: 50,
  /** Pump rounds per second one gateway runs at most (a round is 3–4 round trips); each takes a fresh xid (sql/events/bound.sql). */
  gatewayRoundsPerS: 250,
  /** Gateways for app connections: they LISTEN on every shard; two for redundancy. */
  appGateways: 2,
  /** autovacuum_freeze_max_age (Postgres default): xids after which anti-wraparound vacuum is forced. */
  freezeMaxAge: 200_000_000,
} as const;

/**
 * Utilisation caps. cpu: the API bench ran at 500 / 839 = 60% of the 2-core maximum and its p99 was
 * already 55 ms (target 25): on 2 cores a request often queues behind another. On c cores the chance
 * of queueing at the same utilisation falls fast (M/M/c), so 60% is the safe side on bigger boxes.
 * queue: workers drain a job queue, whose latency target (event → first attempt p99 < 100 ms) holds
 * while it drains faster than it fills; 30% headroom absorbs a retry storm or a lost worker.
 * notify: the NOTIFY commit lock is one server (M/D/1): mean wait ρ/(2(1−ρ)) service times, and one
 * slow fsync stalls every commit behind it. connections: the clients of a lost gateway reconnect to
 * the others.
 */
const UTIL = { cpu: 0.6, queue: 0.7, notify: 0.5, connections: 0.8 } as const;

/** µs of one core per operation, from a rate measured with the bench's cores saturated. */
const usPer = (ratePerS: number) => (BENCH_CORES * 1e6) / ratePerS;

const pgCreateUs = usPer(MEASURED.directCreateTxPerS); // an upper bound: the bench's pg client shared the cores
const apiCreateUs = usPer(MEASURED.apiCreateMaxPerS) - pgCreateUs; // what the API adds: Koa, auth, rate limit, JSON
/** µs per operation, each on the resource that pays it. */
const COST = {
  pgCreate: pgCreateUs,
  apiCreate: apiCreateUs,
  pgBatchItem: MEASURED.batchPostgresUs,
  apiBatchItem: MEASURED.batchServerUs,
  // Assumed: PATCH /notifications/:id costs a single create (one transaction, one event, one NOTIFY; fewer rows).
  pgStateChange: pgCreateUs,
  apiStateChange: apiCreateUs,
  pgDelivery: MEASURED.webhookPostgresUs,
  workerDelivery: MEASURED.webhookWorkerUs,
  // Enqueuing a job in the create transaction (one jobs row and graphile-worker's NOTIFY): in neither
  // figure above (the bench's backlog is enqueued before it starts the clock).
  pgEnqueue: MEASURED.enqueueOneJobUs,
  pgEmail: MEASURED.emailPostgresUs,
  workerEmail: MEASURED.emailWorkerUs,
  pgFeedRead: usPer(MEASURED.feedHeavyUserReadsPerS), // the heavy user: an upper bound for most users
  apiFeedRead: ASSUMED.apiFeedUs,
  pgStatsRead: MEASURED.stats30DaysHourlyP99Ms * 1000, // latency of sequential requests ≥ their CPU
  gatewayMessage: 1e6 / MEASURED.gatewayFanoutMsgPerS, // one process, so at most one core
  pgGatewayRead: ASSUMED.pgGatewayReadUsPerEvent,
} as const;

interface Workload {
  users: number;
  notificationsPerUserPerDay: number;
  /** Peak hour's rate ÷ the day's average. */
  peakToAverage: number;
  /** Share of users with a live connection at the peak. */
  onlineShare: number;
  connectionsPerOnlineUser: number;
  /** Webhook deliveries per notification, its later state events included. */
  webhooksPerNotification: number;
  /** Emails sent per notification (digests coalesce; online users get none). */
  emailsPerNotification: number;
  /** State changes (PATCH, one transaction each) per notification. */
  stateChangesPerNotification: number;
  /** Share of notifications created through full batches. */
  batchedShare: number;
  feedReadsPerUserPerDay: number;
  statsReadsPerSecondPerMillionUsers: number;
  /** Messages to app connections per event. */
  appMessagesPerEvent: number;
  /** Multiplies MEASURED.notifyTxPerS (a faster WAL device raises it, synchronous replication lowers it). */
  notifyCeilingFactor?: number;
  /** Multiplies the feed read's cost (1 = as measured). */
  feedCostFactor?: number;
}

const PROFILE: Omit<Workload, 'users'> = {
  notificationsPerUserPerDay: 10,
  peakToAverage: 3,
  onlineShare: 0.1,
  connectionsPerOnlineUser: 1.5,
  webhooksPerNotification: 1,
  emailsPerNotification: 0.1,
  stateChangesPerNotification: 1,
  batchedShare: 0.5,
  feedReadsPerUserPerDay: 2,
  statsReadsPerSecondPerMillionUsers: 1,
  appMessagesPerEvent: 0.2,
};

interface Plan {
  notificationsPerDay: number;
  peakNotificationsPerS: number;
  eventsPerS: number;
  notifyingTxPerS: number;
  clients: number;
  primaries: number;
  primariesBoundBy: 'fits one' | 'notify lock' | 'CPU';
  coresPerPrimary: number;
  replicasPerShard: number;
  coresPerReplica: number;
  apiProcesses: number;
  workerProcesses: number;
  gateways: number;
  gatewaysBoundBy: 'connections' | 'messages';
  eventsPerSPerShard: number;
  /** The shard's notifying transactions as a share of its NOTIFY ceiling (before the cap). */
  notifyLoadPerShard: number;
  userGatewaysPerShard: number;
  jobsPerSPerShard: number;
  xidsPerSPerShard: number;
  hoursToFreezeMaxAge: number;
  globalStatementsPerS: number;
}

const DAY = 86_400;
const ceil = Math.ceil;

function plan(w: Workload): Plan {
  // Peak rates, per second.
  const notifications = ((w.users * w.notificationsPerUserPerDay) / DAY) * w.peakToAverage;
  const single = notifications * (1 - w.batchedShare);
  const batched = notifications * w.batchedShare;
  const batches = batched / ASSUMED.batchSize;
  const stateChanges = notifications * w.stateChangesPerNotification;
  const events = notifications + stateChanges;
  const notifyingTx = single + batches + stateChanges; // each commits one NOTIFY (and graphile-worker's, same lock)
  const deliveries = notifications * w.webhooksPerNotification;
  const emails = notifications * w.emailsPerNotification;
  const feedReads = ((w.users * w.feedReadsPerUserPerDay) / DAY) * w.peakToAverage;
  const statsReads = (w.users / 1e6) * w.statsReadsPerSecondPerMillionUsers;
  const clients = w.users * w.onlineShare * w.connectionsPerOnlineUser;
  const messages = events * (w.onlineShare * w.connectionsPerOnlineUser * 2 + w.appMessagesPerEvent); // event + counts frame

  // Gateways for user connections, before the shards are known.
  const byConnections = ceil(clients / (MEASURED.gatewayConnections * UTIL.connections));
  const byMessages = ceil((messages * COST.gatewayMessage) / 1e6 / UTIL.cpu);
  const userGateways = Math.max(1, byConnections, byMessages);

  // Primaries: at least what the NOTIFY lock allows, then more until each fits maxCoresPerPrimary.
  const notifyCeiling = MEASURED.notifyTxPerS * (w.notifyCeilingFactor ?? 1) * UTIL.notify;
  const byLock = Math.max(1, ceil(notifyingTx / notifyCeiling));
  const pgWorkUs =
    single * COST.pgCreate + batched * COST.pgBatchItem + stateChanges * COST.pgStateChange +
    deliveries * (COST.pgDelivery + COST.pgEnqueue) + emails * (COST.pgEmail + COST.pgEnqueue);
  let shards = byLock;
  let pgCores = 0;
  let gatewaysPerShard = 0;
  for (;;) {
    gatewaysPerShard = ceil(userGateways / shards);
    // Each user gateway reads every event of its shard; app gateways read every shard.
    const gatewayReadUs = (gatewaysPerShard + ASSUMED.appGateways) * events * COST.pgGatewayRead;
    pgCores = (pgWorkUs + gatewayReadUs) / 1e6 / UTIL.cpu;
    if (pgCores / shards <= ASSUMED.maxCoresPerPrimary) break;
    shards += 1;
  }

  const replicaCores = (feedReads * COST.pgFeedRead * (w.feedCostFactor ?? 1) + statsReads * COST.pgStatsRead) / 1e6 / UTIL.cpu;
  const replicasPerShard = ceil(replicaCores / shards / ASSUMED.maxCoresPerPrimary);
  const apiCores = (single * COST.apiCreate + batched * COST.apiBatchItem + stateChanges * COST.apiStateChange + feedReads * COST.apiFeedRead) / 1e6 / UTIL.cpu;
  const workerCores = (deliveries * COST.workerDelivery + emails * COST.workerEmail) / 1e6 / UTIL.queue;

  // Transaction ids per shard: writers, two per job (fetch, complete), one per gateway pump round.
  const rounds = Math.min(notifyingTx / shards, ASSUMED.gatewayRoundsPerS);
  const xids = (notifyingTx + 2 * (deliveries + emails)) / shards + (gatewaysPerShard + ASSUMED.appGateways) * rounds;

  return {
    notificationsPerDay: w.users * w.notificationsPerUserPerDay,
    peakNotificationsPerS: notifications,
    eventsPerS: events,
    notifyingTxPerS: notifyingTx,
    clients,
    primaries: shards,
    primariesBoundBy: shards === 1 ? 'fits one' : byLock >= shards ? 'notify lock' : 'CPU',
    coresPerPrimary: ceil(pgCores / shards),
    replicasPerShard,
    coresPerReplica: replicasPerShard === 0 ? 0 : ceil(replicaCores / shards / replicasPerShard),
    apiProcesses: Math.max(1, ceil(apiCores)), // Node: one process ≈ one core
    workerProcesses: Math.max(1, ceil(workerCores)),
    gateways: shards * gatewaysPerShard + ASSUMED.appGateways,
    gatewaysBoundBy: byConnections >= byMessages ? 'connections' : 'messages',
    eventsPerSPerShard: events / shards,
    notifyLoadPerShard: notifyingTx / shards / (notifyCeiling / UTIL.notify),
    userGatewaysPerShard: gatewaysPerShard,
    jobsPerSPerShard: (deliveries + emails) / shards,
    xidsPerSPerShard: xids,
    hoursToFreezeMaxAge: ASSUMED.freezeMaxAge / xids / 3600,
    globalStatementsPerS: single + batches + stateChanges + feedReads, // one rate-limit statement per request
  };
}

/** The largest user count for which `fits` holds (bisection on a log scale). */
function largest(fits: (users: number) => boolean): number {
  let lo = 1e3;
  let hi = 1e10;
  while (hi / lo > 1.01) {
    const mid = Math.sqrt(lo * hi);
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

const n = (x: number, digits = 0) => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const short = (x: number) => (x >= 1e9 ? `${n(x / 1e9, 1)}G` : x >= 1e6 ? `${n(x / 1e6, 1)}M` : x >= 1e3 ? `${n(x / 1e3, 1)}k` : n(x));
const table = (head: string[], rows: string[][]) =>
  [`| ${head.join(' | ')} |`, `|${head.map(() => ' --- ').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

function main(): void {
  console.log('## Cost per operation (µs of one core), derived from MEASURED\n');
  console.log(table(['operation', 'Postgres', 'API / worker / gateway process', 'per Postgres core at 100%', 'per process core at 100%'], [
    ['single create', n(COST.pgCreate), `API ${n(COST.apiCreate)}`, `${n(1e6 / COST.pgCreate)}/s`, `${n(1e6 / COST.apiCreate)}/s`],
    ['notification in a batch of 100', n(COST.pgBatchItem), `API ${n(COST.apiBatchItem)}`, `${n(1e6 / COST.pgBatchItem)}/s`, `${n(1e6 / COST.apiBatchItem)}/s`],
    ['webhook delivery (+ enqueue)', `${n(COST.pgDelivery)} + ${n(COST.pgEnqueue)}`, `worker ${n(COST.workerDelivery)}`, `${n(1e6 / (COST.pgDelivery + COST.pgEnqueue))}/s`, `${n(1e6 / COST.workerDelivery)}/s`],
    ['email digest (+ enqueue)', `${n(COST.pgEmail)} + ${n(COST.pgEnqueue)}`, `worker ${n(COST.workerEmail)}`, `${n(1e6 / (COST.pgEmail + COST.pgEnqueue))}/s`, `${n(1e6 / COST.workerEmail)}/s`],
    ['feed read, user with 10k notifications', n(COST.pgFeedRead), `API ${n(COST.apiFeedRead)} (assumed)`, `${n(1e6 / COST.pgFeedRead, 1)}/s`, ''],
    ['stats, 30 days by hour', n(COST.pgStatsRead), '', `${n(1e6 / COST.pgStatsRead, 1)}/s`, ''],
    ['gateway message', '', `gateway ${n(COST.gatewayMessage)}`, '', `${n(1e6 / COST.gatewayMessage)}/s`],
    ['NOTIFY commit (one per writing transaction)', `${n(1e6 / MEASURED.notifyTxPerS)} serialised`, '', `${n(MEASURED.notifyTxPerS)}/s per cluster, whatever the cores`, ''],
  ]));

  const sizes = [1e5, 1e6, 1e7, 1e8];
  const plans = sizes.map((users) => plan({ users, ...PROFILE }));
  console.log('\n## Deployments for the default profile\n');
  console.log(`Profile: ${JSON.stringify(PROFILE)}\n`);
  console.log(table(
    ['users', 'notifications/day', 'peak notif/s', 'peak events/s', 'notifying tx/s', 'clients', 'primaries × cores', 'bound by', 'replicas × cores', 'API', 'workers', 'gateways'],
    plans.map((p, i) => [
      short(sizes[i]!), short(p.notificationsPerDay), n(p.peakNotificationsPerS), n(p.eventsPerS), n(p.notifyingTxPerS), short(p.clients),
      `${p.primaries} × ${p.coresPerPrimary}`, p.primariesBoundBy, `${p.primaries * p.replicasPerShard} × ${p.coresPerReplica}`,
      n(p.apiProcesses), n(p.workerProcesses), `${n(p.gateways)} (${p.gatewaysBoundBy})`,
    ]),
  ));
  console.log('\nPer shard (primary) at the peak:\n');
  console.log(table(
    ['users', 'events/s', 'notifying tx/s ÷ ceiling', 'user gateways', 'jobs/s', 'xids/s', 'hours to 200M xids', 'rate-limit statements/s on the global DB (all shards)'],
    plans.map((p, i) => [
      short(sizes[i]!), n(p.eventsPerSPerShard), `${n(p.notifyLoadPerShard * 100)}%`, n(p.userGatewaysPerShard), n(p.jobsPerSPerShard),
      n(p.xidsPerSPerShard), n(p.hoursToFreezeMaxAge, 1), n(p.globalStatementsPerS),
    ]),
  ));

  const one = (overrides: Partial<Workload> = {}) => (users: number) => plan({ users, ...PROFILE, ...overrides }).primaries === 1;
  const cpuOnly = (users: number) => plan({ users, ...PROFILE, notifyCeilingFactor: 1e9 }).primaries === 1;
  const limit = largest(one());
  const p = plan({ users: limit, ...PROFILE });
  console.log('\n## Where one Postgres primary stops (default profile)\n');
  console.log(`One primary carries ${short(limit)} users = ${short(p.notificationsPerDay)} notifications/day (peak ${n(p.peakNotificationsPerS)}/s, ${n(p.notifyingTxPerS)} notifying tx/s), ${short(p.clients)} connected clients, on ${p.coresPerPrimary} cores; bound by the NOTIFY lock (${n(MEASURED.notifyTxPerS)} tx/s × ${UTIL.notify}).`);
  console.log(`Without the lock, CPU alone (${ASSUMED.maxCoresPerPrimary} cores at ${UTIL.cpu * 100}%) would stop at ${short(largest(cpuOnly))} users.`);

  console.log('\n## Sensitivity at 100M users\n');
  const variants: [string, Partial<Workload>][] = [
    ['default profile', {}],
    ['WAL device with half the commit latency (NOTIFY ceiling × 2)', { notifyCeilingFactor: 2 }],
    ['synchronous standby adding ~1 commit time (NOTIFY ceiling × 0.5)', { notifyCeilingFactor: 0.5 }],
    ['state changes coalesced (0.25 transactions per notification)', { stateChangesPerNotification: 0.25 }],
    ['90% of notifications in full batches', { batchedShare: 0.9 }],
    ['feed read 10× dearer (the regression before dcb0f3c)', { feedCostFactor: 10 }],
  ];
  console.log(table(['variant', 'primaries × cores', 'bound by', 'replicas × cores', 'one primary up to'], variants.map(([label, o]) => {
    const v = plan({ users: 1e8, ...PROFILE, ...o });
    return [label, `${v.primaries} × ${v.coresPerPrimary}`, v.primariesBoundBy, `${v.primaries * v.replicasPerShard} × ${v.coresPerReplica}`, `${short(largest(one(o)))} users`];
  })));
}

main();
