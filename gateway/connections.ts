// The connections of this instance: routing of released events, resume, counts, limits.
// Everything here runs on the event loop thread. A connection reaches its client through a
// Transport (transport.ts); nothing here knows which one (gateway.ts makes the WebSocket ones).
import { run, type Pool } from '../lib/db.js';
import { eventTypeOf, matchesAny, type EventRow } from '../lib/events.js';
import type { Logger } from '../lib/log.js';
import type { UserClaims } from '../lib/tokens.js';
import { sqlFile, sqlStatement } from '../lib/sql.js';
import type { Route } from './auth.js';
import type { GatewayMetrics } from './metrics.js';
import type { GatewayOptions } from '../lib/config.js';
import type { Holder } from './registry.js';
import {
  authenticatedFrame,
  CLOSE, countsFrame, errorFrame, eventFrame, gapFrame, parseClientMessage, pongFrame, preferencesFrame, readyFrame, subscribedFrame,
} from './protocol.js';
import type { PreferencesChange } from './listener.js';
import type { Frame, Transport } from './transport.js';

const replayQuery = sqlStatement<{ after: number; up_to: number; user_id: string | null; app_id: string | null; max_rows: number }, EventRow>('gateway/replay');
const newestSeqQuery = sqlFile('gateway/newest_seq');

export const afterBeyondNewest = (after: number, newest: number) => `after=${after} is beyond the newest event (seq ${newest}): resume from a seq you received`;
const archivedAfter = sqlFile('gateway/archived_after');
const unreadCounts = sqlFile('gateway/unread_counts');
const broadcastRecipients = sqlFile('gateway/broadcast_recipients');

/** A broadcast.* event: about an audience, not one user (it has no user_id). */
const isBroadcast = (row: EventRow) => row.user_id === null && row.event_category === 'broadcast';

export interface Conn {
  id: string;
  route: Route;
  /** Where the connection starts: a seq to resume after, or null for "live from now". */
  after: number | null;
  protocol: string;
  /** Event patterns; null = every event. */
  patterns: string[] | null;
  /** Highest seq this connection has been brought up to (events ≤ it are never sent live again). */
  lastSeq: number;
  /** While a replay runs, live events wait here. */
  pending: { seq: number; frame: Buffer }[] | null;
  /** A replay being written as the socket drains (frames[at…]), then `ready` for resume point `after`. */
  backlog: { frames: Frame[]; at: number; after: number } | null;
  /** Frames of the batch being dispatched. */
  outbox: Buffer[] | null;
  bucket: number;
  bucketAt: number;
  closed: boolean;
  /** How frames reach the client; null until it opens and after it closed. */
  transport: Transport | null;
}

export function newConn(id: string, route: Route, after: number | null, protocol: string, burst: number): Conn {
  return { id, route, after, protocol, patterns: null, lastSeq: -1, pending: null, backlog: null, outbox: null, bucket: burst, bucketAt: performance.now(), closed: false, transport: null };
}

export const holderOf = (route: Route): Holder => (route.kind === 'user' ? { userId: route.userId } : { appId: route.appId });

export class Hub {
  /** Routed by user across apps: user connections, and platform apps watching one user. */
  private readonly byUser = new Map<string, Set<Conn>>();
  /** Routed by app: app connections (optionally filtered by user). */
  private readonly byApp = new Map<string, Set<Conn>>();
  readonly all = new Set<Conn>();
  private countsChain: Promise<void> = Promise.resolve();
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly pool: Pool,
    private readonly log: Logger,
    private readonly options: GatewayOptions,
    private readonly metrics: GatewayMetrics,
    private readonly hwm: () => number,
    /** A user JWT's claims (lib/tokens.ts), or null: for in-band token refresh. */
    private readonly verifyToken: (token: string) => Promise<UserClaims | null>,
  ) {
    this.timers.push(setInterval(() => this.pingAll(), options.pingIntervalMs));
    this.timers.push(setInterval(() => this.closeExpired(), options.tokenSweepMs));
  }

  counts(): { user: number; app: number } {
    let user = 0;
    for (const conn of this.all) if (conn.route.kind === 'user') user += 1;
    return { user, app: this.all.size - user };
  }

  /** Every open connection and whom it counts against (the registry's per-user and per-app limits). */
  *holders(): Iterable<[string, Holder]> {
    for (const conn of this.all) yield [conn.id, holderOf(conn.route)];
  }

  private indexOf(conn: Conn): [Map<string, Set<Conn>>, string] {
    const route = conn.route;
    if (route.kind === 'user') return [this.byUser, route.userId];
    if (route.platform && route.userId) return [this.byUser, route.userId];
    return [this.byApp, route.appId];
  }

  open(conn: Conn, transport: Transport): void {
    if (conn.closed) return; // closed before its deferred open ran
    conn.transport = transport;
    this.all.add(conn);
    const [index, key] = this.indexOf(conn);
    let set = index.get(key);
    if (!set) index.set(key, (set = new Set()));
    set.add(conn);
    if (conn.after === null) {
      conn.lastSeq = this.hwm();
      this.send(conn, readyFrame(conn.id, conn.lastSeq));
    } else {
      void this.resume(conn, conn.after);
    }
    if (conn.route.kind === 'user') this.queueCounts([conn.route.userId], conn);
  }

  closed(conn: Conn): void {
    conn.closed = true;
    conn.transport = null;
    conn.pending = null;
    conn.backlog = null;
    this.all.delete(conn);
    const [index, key] = this.indexOf(conn);
    const set = index.get(key);
    set?.delete(conn);
    if (set?.size === 0) index.delete(key);
  }

  /** Close with a code; the transport's close then reaches closed() (gateway.ts). */
  end(conn: Conn, code: number, reason: string, metric: string): void {
    const transport = conn.transport;
    if (!transport || conn.closed) return;
    conn.closed = true;
    this.metrics.closed.inc({ reason: metric });
    transport.close(code, reason);
  }

  /**
   * Sends always go through batch() (uWS: cork): most happen outside uWS callbacks (pg results,
   * timers), where an uncorked send can interleave with another socket's corked output.
   */
  private send(conn: Conn, frame: Frame): void {
    const transport = conn.transport;
    if (!transport || conn.closed) return;
    this.batchedFrame = frame;
    this.batchedConn = conn;
    transport.batch(this.sendBatched);
  }

  // One frame's batch without a closure per send (the fan-out path).
  private batchedFrame: Frame = '';
  private batchedConn: Conn | null = null;
  private readonly sendBatched = () => this.rawSend(this.batchedConn!, this.batchedFrame);

  /** One frame inside a batch; a client that does not keep up is closed as a slow consumer (1013). */
  private rawSend(conn: Conn, frame: Frame): void {
    const transport = conn.transport;
    if (!transport || conn.closed) return;
    const result = transport.send(frame);
    if (result !== 'sent' && (result === 'dropped' || transport.bufferedAmount() > this.options.maxBackpressure)) {
      // The WebSocket transport's own cap is twice this, so the close frame still fits behind the queued data.
      this.end(conn, CLOSE.tryAgain, 'slow consumer: reconnect with after=<last seq>', 'slow_consumer');
      return;
    }
    this.metrics.messagesOut += 1;
  }

  private sendMany(conn: Conn, frames: Frame[]): void {
    const transport = conn.transport;
    if (!transport || frames.length === 0) return;
    transport.batch(() => {
      for (const frame of frames) this.rawSend(conn, frame);
    });
  }

  /** The event's frame; one that cannot be serialised is logged, counted and sent without its data. */
  private frameOf(row: EventRow): Buffer {
    try {
      return eventFrame(row);
    } catch (err) {
      this.metrics.unserialisable.inc();
      this.log.error({ seq: row.seq, eventId: row.id, err: (err as Error).message }, 'event cannot be serialised: sent without its event_data');
      return eventFrame(row, 'event_data could not be serialised');
    }
  }

  /** Released events, in seq order (listener hook). */
  /**
   * Released events to their connections. A broadcast first asks which connected users it reaches
   * (one query per broadcast, not one NOTIFY per recipient); users who connect meanwhile are asked
   * too, so nobody admitted before the dispatch misses it.
   */
  async release(rows: EventRow[], notifiedAt: Map<number, number>): Promise<void> {
    const recipients = new Map<number, string[]>();
    for (const row of rows) {
      if (!isBroadcast(row)) continue;
      const asked = new Set<string>();
      const reached: string[] = [];
      for (;;) {
        const users = [...this.byUser.keys()].filter((user) => !asked.has(user));
        if (users.length === 0) break;
        for (const user of users) asked.add(user);
        const found = await run<{ user_id: string }>(this.pool, broadcastRecipients, [row.app_id, row.event_data, users]);
        for (const { user_id } of found) reached.push(user_id);
      }
      recipients.set(row.seq, reached);
    }
    this.dispatch(rows, notifiedAt, recipients);
  }

  private dispatch(rows: EventRow[], notifiedAt: Map<number, number>, recipients: Map<number, string[]>): void {
    const countUsers = new Set<string>();
    // Frames are collected per connection and written in one corked write each: a batch of events
    // costs one syscall per connection, not one per event.
    const touched: Conn[] = [];
    for (const row of rows) {
      const type = eventTypeOf(row);
      let frame: Buffer | null = null;
      const deliver = (conn: Conn) => {
        if (conn.closed || row.seq <= conn.lastSeq) return;
        if (conn.patterns && !matchesAny(conn.patterns, type)) {
          if (!conn.pending) conn.lastSeq = row.seq;
          return;
        }
        frame ??= this.frameOf(row);
        if (conn.pending) {
          conn.pending.push({ seq: row.seq, frame });
          if (conn.pending.length > this.options.pendingLimit) this.end(conn, CLOSE.tryAgain, 'too many events during resume: reconnect', 'pending_limit');
          return;
        }
        conn.lastSeq = row.seq;
        if (!conn.outbox) {
          conn.outbox = [];
          touched.push(conn);
        }
        conn.outbox.push(frame);
      };
      const reached = recipients.get(row.seq);
      if (reached) {
        for (const user of reached) {
          for (const conn of this.byUser.get(user) ?? []) if (conn.route.kind === 'user') deliver(conn);
          countUsers.add(user);
        }
      }
      const users = row.reaches_user === false || row.user_id === null ? undefined : this.byUser.get(row.user_id);
      if (users) {
        for (const conn of users) deliver(conn);
        if (row.event_category === 'notification') countUsers.add(row.user_id!);
      }
      for (const appId of row.audience_apps?.length ? [row.app_id, ...row.audience_apps] : [row.app_id]) {
        for (const conn of this.byApp.get(appId) ?? []) {
          const route = conn.route;
          if (route.kind === 'app' && route.userId && route.userId !== row.user_id) continue;
          deliver(conn);
        }
      }
      const at = notifiedAt.get(row.seq);
      if (at !== undefined) {
        notifiedAt.delete(row.seq);
        this.metrics.lag.observe((performance.now() - at) / 1000);
      }
    }
    for (const conn of touched) {
      const frames = conn.outbox!;
      conn.outbox = null;
      if (frames.length === 1) this.send(conn, frames[0]!);
      else this.sendMany(conn, frames);
    }
    if (countUsers.size > 0) this.queueCounts([...countUsers]);
  }

  /** preferences.updated to the user's own connections (not to apps: a user's preferences are theirs). */
  preferencesChanged(change: PreferencesChange): void {
    const frame = preferencesFrame(change.revision, change.updated_at);
    for (const conn of this.byUser.get(change.user_id) ?? []) if (conn.route.kind === 'user') this.send(conn, frame);
  }

  /** Unread counts to the user connections of these users (or only to `only`), in order. */
  private queueCounts(users: string[], only?: Conn): void {
    this.countsChain = this.countsChain
      .then(async () => {
        const rows = await run<{ user_id: string; unread: number }>(this.pool, unreadCounts, [users]);
        for (const { user_id, unread } of rows) {
          const frame = countsFrame(unread);
          if (only) {
            this.send(only, frame);
            continue;
          }
          for (const conn of this.byUser.get(user_id) ?? []) if (conn.route.kind === 'user') this.send(conn, frame);
        }
      })
      .catch((err: Error) => this.log.warn({ err: err.message }, 'unread count query failed'));
  }

  /** Send what this connection missed after `after`, then continue live without duplicates. */
  async resume(conn: Conn, after: number): Promise<void> {
    if (conn.pending) {
      this.send(conn, errorFrame('resume_in_progress', 'a resume is already running'));
      return;
    }
    conn.pending = [];
    const upTo = this.hwm();
    if (after > upTo) {
      const newest = await this.newestSeqFor(conn);
      if (newest === null) return;
      if (after > newest) {
        conn.pending = null;
        this.send(conn, errorFrame('bad_resume', afterBeyondNewest(after, newest)));
        return;
      }
    }
    conn.lastSeq = after;
    const frames: Frame[] = [];
    try {
      if (after < upTo) {
        const [gap] = await run<{ archived: boolean }>(this.pool, archivedAfter, [after]);
        if (gap?.archived) {
          frames.push(gapFrame(after, upTo, 'archived'));
        } else {
          const route = conn.route;
          const userFilter = route.userId; // the user, or an app connection's optional ?user_id=
          const appFilter = route.kind === 'app' && !(route.platform && route.userId) ? route.appId : null;
          const rows = await run(this.pool, replayQuery, { after, up_to: upTo, user_id: userFilter ?? null, app_id: appFilter, max_rows: this.options.replayLimit + 1 });
          if (rows.length > this.options.replayLimit) {
            frames.push(gapFrame(after, upTo, 'too_far_behind'));
          } else {
            for (const row of rows) if (!conn.patterns || matchesAny(conn.patterns, eventTypeOf(row))) frames.push(this.frameOf(row));
          }
        }
        conn.lastSeq = upTo;
      }
    } catch (err) {
      this.log.warn({ err: (err as Error).message, connectionId: conn.id }, 'replay failed');
      this.end(conn, CLOSE.tryAgain, 'resume failed: reconnect', 'resume_failed');
      return;
    }
    if (conn.closed) return;
    conn.backlog = { frames, at: 0, after };
    this.drain(conn);
  }

  /**
   * Write a replay as fast as the client reads it: up to half the backpressure limit at a time, the
   * rest when the transport has drained (gateway.ts calls this on uWS drain), so a reader catching up
   * thousands of events is never taken for a slow consumer. Live events wait in `pending` meanwhile;
   * then they follow, and `ready`.
   */
  drain(conn: Conn): void {
    const transport = conn.transport;
    const backlog = conn.backlog;
    if (!transport || conn.closed || !backlog) return;
    const limit = this.options.maxBackpressure / 2;
    transport.batch(() => {
      while (backlog.at < backlog.frames.length && !conn.closed && transport.bufferedAmount() < limit) this.rawSend(conn, backlog.frames[backlog.at++]!);
    });
    if (conn.closed || backlog.at < backlog.frames.length) return;
    conn.backlog = null;
    const frames: Frame[] = [];
    const pending = conn.pending ?? [];
    conn.pending = null;
    for (const { seq, frame } of pending) {
      if (seq <= conn.lastSeq) continue;
      frames.push(frame);
      conn.lastSeq = seq;
    }
    conn.lastSeq = Math.max(conn.lastSeq, backlog.after);
    frames.push(readyFrame(conn.id, conn.lastSeq));
    this.sendMany(conn, frames);
  }

  /** The newest seq ever handed out (live or archived): a resume point beyond it was never given. */
  async newestSeq(): Promise<number> {
    return (await run<{ seq: number }>(this.pool, newestSeqQuery))[0]!.seq;
  }

  /** newestSeq() for a resume; null (the connection closed) when it cannot be read. */
  private async newestSeqFor(conn: Conn): Promise<number | null> {
    try {
      return await this.newestSeq();
    } catch (err) {
      this.log.warn({ err: (err as Error).message, connectionId: conn.id }, 'newest seq query failed');
      this.end(conn, CLOSE.tryAgain, 'resume failed: reconnect', 'resume_failed');
      return null;
    }
  }

  /** A client message: flood limit first, then subscribe / resume / ping. */
  message(conn: Conn, data: ArrayBuffer): void {
    if (data.byteLength > this.options.maxPayloadLength) {
      this.end(conn, CLOSE.tooBig, `message over ${this.options.maxPayloadLength} bytes`, 'too_big');
      return;
    }
    const now = performance.now();
    conn.bucket = Math.min(this.options.messageBurst, conn.bucket + ((now - conn.bucketAt) / 1000) * this.options.messagesPerSecond);
    conn.bucketAt = now;
    if (conn.bucket < 1) {
      this.end(conn, CLOSE.policy, 'message rate limit exceeded', 'flood');
      return;
    }
    conn.bucket -= 1;
    const parsed = parseClientMessage(Buffer.from(data).toString('utf8'));
    if (!parsed.ok) {
      this.send(conn, errorFrame('bad_message', parsed.error));
      return;
    }
    const message = parsed.message;
    if (message.type === 'subscribe') {
      conn.patterns = message.events.includes('*') ? null : message.events;
      this.send(conn, subscribedFrame(message.events));
    } else if (message.type === 'resume') {
      void this.resume(conn, message.after);
    } else if (message.type === 'auth') {
      void this.refreshToken(conn, message.token);
    } else {
      this.send(conn, pongFrame());
    }
  }

  /**
   * In-band token refresh (as Centrifugo's): a user connection sends a fresh JWT of the same user
   * before its own expires and keeps its connection and cursor; a bad or expired token, or another
   * user's, closes it with 1008. An app connection (API key) has no token to refresh.
   */
  private async refreshToken(conn: Conn, token: string): Promise<void> {
    const route = conn.route;
    if (route.kind !== 'user') {
      this.send(conn, errorFrame('bad_message', 'auth refreshes a user token; a connection opened with an API key has none'));
      return;
    }
    const claims = await this.verifyToken(token);
    if (conn.closed) return;
    if (!claims) {
      this.end(conn, CLOSE.policy, 'token refresh refused: invalid or expired token', 'refresh_refused');
    } else if (claims.userId !== route.userId) {
      this.end(conn, CLOSE.policy, "token refresh refused: another user's token", 'refresh_refused');
    } else {
      conn.route = { ...route, expiresAt: claims.expiresAt * 1000 };
      this.send(conn, authenticatedFrame(conn.route.expiresAt));
    }
  }

  private pingAll(): void {
    for (const conn of this.all) conn.transport?.ping();
  }

  private closeExpired(): void {
    const now = Date.now();
    for (const conn of this.all) {
      if (conn.route.kind === 'user' && conn.route.expiresAt <= now) this.end(conn, CLOSE.policy, 'token expired', 'token_expired');
    }
  }

  /** Gateway shutdown: stop timers and close every connection (1001). */
  async shutdown(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    for (const conn of [...this.all]) this.end(conn, CLOSE.goingAway, 'gateway shutting down: reconnect with after=<last seq>', 'shutdown');
    await this.countsChain;
  }
}
