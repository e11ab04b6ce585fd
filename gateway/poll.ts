// Long-poll (DESIGN §13): GET /api/v1/events/poll?after=<seq>&wait=<s> for clients whose WebSocket
// cannot open (a proxy refuses the upgrade). The same admission as the stream (credentials, Origin,
// ?user_id=, after), the same hub: a poll is a connection whose transport collects frames instead
// of writing them to a socket (PollTransport), so routing, gap-free order, `gap`, `counts` and the
// replay limit are the stream's own. It answers as soon as it holds events (or a gap) — at once for
// a resume with something to replay, else when the next event for the caller is released — or
// after `wait` seconds with none, then leaves the hub:
//   {"messages": [<the stream's frames: ready, event…, counts, gap>], "next_after": <seq>}
// The client polls again with after=next_after. Polls are rate-limited per user or app like stream
// messages (GATEWAY_MESSAGES_PER_SECOND, GATEWAY_MESSAGE_BURST). A polling client is not counted in
// the gateways' connection registry (email's "online" check sees only WebSocket connections).
import { randomUUID } from 'node:crypto';
import type { HttpResponse, TemplatedApp } from 'uWebSockets.js';
import type { Config, GatewayOptions } from '../lib/config.js';
import type { Logger } from '../lib/log.js';
import { admitUpgrade, originAllowed, type Route } from './auth.js';
import { afterBeyondNewest, holderOf, newConn, type Hub } from './connections.js';
import type { Frame, SendResult, Transport } from './transport.js';
import type { Pool } from '../lib/db.js';
import type { GatewayMetrics } from './metrics.js';

export const POLL_PATH = '/api/v1/events/poll';
export const MAX_WAIT_SECONDS = 30;
const DEFAULT_WAIT_SECONDS = 25;
/** Once there is something to answer, wait this long for what was committed with it. */
const GATHER_MS = 20;
/** At most this long for the unread count that follows a notification event. */
const COUNTS_WAIT_MS = 500;

/** Collects the hub's frames for one poll's answer. */
class PollTransport implements Transport {
  readonly frames: Frame[] = [];
  constructor(private readonly onFrame: (frame: Frame) => void, private readonly onClose: () => void) {}
  batch(write: () => void): void {
    write();
  }
  send(frame: Frame): SendResult {
    this.frames.push(frame);
    this.onFrame(frame);
    return 'sent';
  }
  bufferedAmount(): number {
    return 0;
  }
  ping(): void {}
  close(): void {
    this.onClose();
  }
}

export interface PollDeps {
  pool: Pool;
  config: Config;
  options: GatewayOptions;
  hub: Hub;
  log: Logger;
  metrics: GatewayMetrics;
  hwm: () => number;
  closing: () => boolean;
  refuse: (res: HttpResponse, status: number, code: string, message: string) => void;
}

/** `wait` as whole seconds 0…30 (default 25), or null when it is anything else. */
export function parseWait(raw: string | null): number | null {
  if (raw === null) return DEFAULT_WAIT_SECONDS;
  if (!/^\d{1,2}$/.test(raw)) return null;
  const seconds = Number(raw);
  return seconds <= MAX_WAIT_SECONDS ? seconds : null;
}

const holderKey = (route: Route) => (route.kind === 'user' ? `user:${route.userId}` : `app:${route.appId}`);

function corsHeaders(res: HttpResponse, origin: string, allowed: readonly string[]): void {
  if (origin && originAllowed(origin, allowed)) {
    res.writeHeader('access-control-allow-origin', origin).writeHeader('vary', 'Origin');
  }
}

export function pollRoutes(app: TemplatedApp, deps: PollDeps): void {
  const { config, options, hub, log } = deps;
  const buckets = new Map<string, { tokens: number; at: number }>();
  /** One poll spends a token of its user's (or app's) bucket; false when it is empty. */
  const take = (key: string): boolean => {
    const now = performance.now();
    const bucket = buckets.get(key) ?? { tokens: options.messageBurst, at: now };
    bucket.tokens = Math.min(options.messageBurst, bucket.tokens + ((now - bucket.at) / 1000) * options.messagesPerSecond);
    bucket.at = now;
    buckets.set(key, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  };
  const sweep = setInterval(() => {
    const full = performance.now() - (options.messageBurst / options.messagesPerSecond) * 1000;
    for (const [key, bucket] of buckets) if (bucket.at < full) buckets.delete(key);
  }, 60_000);
  sweep.unref();

  app.options(POLL_PATH, (res, req) => {
    const origin = req.getHeader('origin');
    res.cork(() => {
      if (!originAllowed(origin, config.allowedOrigins)) {
        res.writeStatus('403 Forbidden').end();
        return;
      }
      res.writeStatus('204 No Content');
      corsHeaders(res, origin, config.allowedOrigins);
      res.writeHeader('access-control-allow-methods', 'GET')
        .writeHeader('access-control-allow-headers', 'authorization')
        .writeHeader('access-control-max-age', '600')
        .end();
    });
  });

  app.get(POLL_PATH, (res, req) => {
    const origin = req.getHeader('origin');
    const query = req.getQuery() ?? '';
    const input = { authorization: req.getHeader('authorization'), protocols: '', origin, query };
    let aborted = false;
    let finish: (() => void) | null = null;
    res.onAborted(() => {
      aborted = true;
      finish?.();
    });
    const refuse = (status: number, code: string, message: string) => {
      deps.metrics.refused.inc({ reason: code });
      if (!aborted) deps.refuse(res, status, code, message);
    };
    void (async () => {
      if (deps.closing()) return refuse(503, 'shutting_down', 'The gateway is shutting down');
      const wait = parseWait(new URLSearchParams(query).get('wait'));
      if (wait === null) return refuse(400, 'bad_query', `wait must be whole seconds from 0 to ${MAX_WAIT_SECONDS}`);
      const admission = await admitUpgrade(deps.pool, config, input);
      if (aborted) return;
      if (!admission.ok) return refuse(admission.status, admission.reason, admission.message);
      if (admission.after !== null && admission.after > deps.hwm()) {
        const newest = await hub.newestSeq();
        if (aborted) return;
        if (admission.after > newest) return refuse(400, 'bad_query', afterBeyondNewest(admission.after, newest));
      }
      if (!take(holderKey(admission.route))) return refuse(429, 'too_many_polls', `At most ${options.messagesPerSecond} polls per second (burst ${options.messageBurst})`);

      const conn = newConn(randomUUID(), admission.route, admission.after, '', options.messageBurst);
      const userRoute = admission.route.kind === 'user';
      let ready = false;
      let events = 0;
      let gap = false;
      // A user's answer carries their unread count: the one the hub sends on open, and the fresh one it
      // sends after each live notification or broadcast event (waited for at most COUNTS_WAIT_MS).
      let countsPending = userRoute;
      let nextAfter = admission.after ?? 0;
      let answering = false;
      let gather: NodeJS.Timeout | null = null;
      let cap: NodeJS.Timeout | null = null;
      const answerSoon = () => {
        if (!answering || gather) return;
        if (!countsPending) gather = setTimeout(() => finish?.(), GATHER_MS);
        else cap ??= setTimeout(() => finish?.(), COUNTS_WAIT_MS);
      };
      const waitTimer = setTimeout(() => {
        answering = true;
        answerSoon();
      }, wait * 1000);
      const transport = new PollTransport((frame) => {
        const message = JSON.parse(frame.toString()) as { type: string; seq?: number; resume_seq?: number; event_category?: string };
        if (message.type === 'ready') {
          ready = true;
          nextAfter = Math.max(nextAfter, message.seq ?? 0);
        } else if (message.type === 'event') {
          events += 1;
          nextAfter = Math.max(nextAfter, message.seq ?? 0);
          if (ready && userRoute && (message.event_category === 'notification' || message.event_category === 'broadcast')) countsPending = true;
        } else if (message.type === 'gap') {
          gap = true;
          nextAfter = Math.max(nextAfter, message.resume_seq ?? 0);
        } else if (message.type === 'counts') {
          countsPending = false;
        }
        if (ready && (events > 0 || gap)) answering = true;
        answerSoon();
      }, () => finish?.());
      finish = () => {
        finish = null;
        for (const timer of [waitTimer, gather, cap]) if (timer) clearTimeout(timer);
        hub.closed(conn);
        if (aborted) return;
        const body = `{"messages":[${transport.frames.map((f) => f.toString()).join(',')}],"next_after":${nextAfter}}`;
        res.cork(() => {
          res.writeStatus('200 OK').writeHeader('content-type', 'application/json').writeHeader('cache-control', 'no-store');
          corsHeaders(res, origin, config.allowedOrigins);
          res.end(body);
        });
      };
      conn.transport = transport;
      hub.open(conn, transport);
      log.debug({ connectionId: conn.id, holder: holderOf(conn.route), wait }, 'poll opened');
    })().catch((err: Error) => {
      log.error({ err }, 'poll failed');
      finish = null;
      refuse(503, 'unavailable', 'Try again');
    });
  });
}
