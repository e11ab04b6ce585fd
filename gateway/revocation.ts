// App connections end when their API key stops working. Each app connection keeps the digest of the
// key it was admitted with (Route.keyHash). The database announces every change to an app's keys or
// to the app on channel oriva_keys (payload: the app id; migration 000003); the listener passes it
// here, and the app's open connections on this instance are checked again with one query:
//   - key revoked or deleted, app disabled or deleted, platform flag changed: close 1008 at once;
//   - key revoked in the future (a rotation's grace period): a timer checks the app again when the
//     earliest such revocation is due. It re-checks rather than simply closing, so the database
//     decides (its clock, and a revocation moved or undone meanwhile, which is announced too).
// An app is also checked when one of its connections opens: that learns a grace period announced
// before the connection came (the upgrade's key lookup does not return it) and closes the window
// between the lookup and the connection joining the hub. Announcements can be missed while the
// LISTEN connection is down, so every app is checked after it (re)connects.
// Checks of one app never overlap and coalesce: a burst of opens or announcements costs two queries.
import { run, type Pool } from '../lib/db.js';
import type { Logger } from '../lib/log.js';
import { sqlFile } from '../lib/sql.js';
import type { Conn, Hub } from './connections.js';
import type { GatewayOptions } from '../lib/config.js';
import { CLOSE } from './protocol.js';

const keyStatus = sqlFile('gateway/key_status');

/** setTimeout's largest delay (about 24.8 days); a longer grace period is re-checked then. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface KeyRow {
  key_hash: Buffer;
  live: boolean;
  revokes_in_ms: number | null;
  is_active: boolean;
  is_platform: boolean;
}

type AppConn = Conn & { route: Extract<Conn['route'], { kind: 'app' }> };

/** Why a connection must end (close reason and metric label), or null while its key works. */
function verdict(conn: AppConn, row: KeyRow | undefined): { reason: string; metric: string } | null {
  if (!row) return { reason: 'api key revoked', metric: 'key_revoked' };
  if (!row.is_active) return { reason: 'app disabled', metric: 'app_disabled' };
  if (!row.live) return { reason: 'api key revoked', metric: 'key_revoked' };
  if (row.is_platform !== conn.route.platform) return { reason: 'app changed: reconnect', metric: 'app_changed' };
  return null;
}

export class RevocationWatch {
  /** App id → the timer of its next due revocation. */
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** App id → its running check; checks of one app never overlap. */
  private readonly running = new Map<string, Promise<void>>();
  /** Apps announced again while their check ran: checked once more after it. */
  private readonly again = new Set<string>();
  private stopped = false;

  constructor(
    private readonly pool: Pool,
    private readonly log: Logger,
    private readonly options: GatewayOptions,
    private readonly hub: Hub,
  ) {}

  /** Listener hook: oriva_keys announced a change to this app. */
  changed(appId: string): void {
    this.check(appId);
  }

  /** Listener hook: LISTEN (re)connected, announcements may have been missed: check every app. */
  checkAll(): void {
    const apps = new Set<string>();
    for (const conn of this.hub.all) if (conn.route.kind === 'app') apps.add(conn.route.appId);
    for (const appId of apps) this.check(appId);
  }

  /** A connection joined the hub. */
  opened(conn: Conn): void {
    if (conn.route.kind === 'app' && !conn.closed) this.check(conn.route.appId);
  }

  check(appId: string): void {
    if (this.stopped) return;
    if (this.running.has(appId)) {
      this.again.add(appId);
      return;
    }
    const done = this.checkOnce(appId)
      .catch((err: Error) => {
        // Not silently dropped: a failed check could leave a revoked key streaming. Try again.
        this.log.warn({ err: err.message, appId }, 'API key check failed; retrying');
        this.schedule(appId, this.options.reconnectMaxMs);
      })
      .finally(() => {
        this.running.delete(appId);
        if (this.again.delete(appId)) this.check(appId);
      });
    this.running.set(appId, done);
  }

  private async checkOnce(appId: string): Promise<void> {
    this.clearTimer(appId);
    const conns = this.appConnections(appId);
    if (conns.length === 0) return;
    const digests = new Map<string, Buffer>();
    for (const conn of conns) digests.set(conn.route.keyHash.toString('hex'), conn.route.keyHash);
    const rows = await run<KeyRow>(this.pool, keyStatus, [appId, [...digests.values()]]);
    if (this.stopped) return;
    const byDigest = new Map(rows.map((row) => [row.key_hash.toString('hex'), row]));
    let nextDue = Infinity;
    // Connections that opened during the query asked for a check of their own (run after this one).
    for (const conn of conns) {
      if (conn.closed) continue;
      const row = byDigest.get(conn.route.keyHash.toString('hex'));
      const end = verdict(conn, row);
      if (end) {
        this.log.info({ connectionId: conn.id, appId, reason: end.metric }, 'closing an app connection: its key stopped working');
        this.hub.end(conn, CLOSE.policy, end.reason, end.metric);
      } else if (row && row.revokes_in_ms !== null) {
        nextDue = Math.min(nextDue, row.revokes_in_ms);
      }
    }
    if (nextDue !== Infinity) this.schedule(appId, Math.ceil(nextDue));
  }

  private appConnections(appId: string): AppConn[] {
    const conns: AppConn[] = [];
    for (const conn of this.hub.all) {
      if (conn.route.kind === 'app' && conn.route.appId === appId && !conn.closed) conns.push(conn as AppConn);
    }
    return conns;
  }

  private schedule(appId: string, delayMs: number): void {
    if (this.stopped) return;
    this.clearTimer(appId);
    const timer = setTimeout(() => {
      this.timers.delete(appId);
      this.check(appId);
    }, Math.min(Math.max(delayMs, 0), MAX_TIMER_MS));
    timer.unref();
    this.timers.set(appId, timer);
  }

  private clearTimer(appId: string): void {
    const timer = this.timers.get(appId);
    if (timer) clearTimeout(timer);
    this.timers.delete(appId);
  }

  /** Gateway shutdown: no more checks; waits for the running ones. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.again.clear();
    await Promise.all(this.running.values());
  }
}
