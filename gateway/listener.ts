// LISTEN + catch-up. A NOTIFY is only a hint that something committed; the table is the truth.
//
// Delivery order and the resume cursor (issue 5, "commit out of seq order"):
// the listener releases events strictly in seq order and only up to a safe high-water mark (hwm):
// every seq <= hwm is final (committed, or never will be). A client therefore never sees seq 11
// while seq 10 can still commit, so "after=<last seq seen>" is a gap-free cursor.
//
// One pump round:
//   1. bound: in one statement, read max(seq) in the statement's snapshot, then take a fresh xid
//      (the fence). A transaction holding an uncommitted seq s <= max_seq had its xid before s was
//      allocated (the trigger _010_seq_after_xid on oriva.platform_events makes sure of that:
//      oriva.tg_platform_events__seq_after_xid, migrations 000002 and 000021, in sql/schema.sql), s was allocated
//      before max_seq, which committed before our snapshot, which precedes the fence: so its xid < fence.
//   2. settle: wait until no transaction older than the fence that could write an event runs
//      (sql/events/writers_settled.sql: sessions of this database with access to schema oriva),
//      then read (hwm, max_seq] in a later statement, whose snapshot therefore sees every such
//      commit: those rows are final. Release them; hwm = max_seq.
// Only writing transactions hold xids, so the wait is as long as our concurrent writing
// transactions, usually none; a transaction in another database or of another role never holds it,
// and our own roles' idle transactions are ended by idle_in_transaction_session_timeout (lib/db.ts).
// The fence costs one xid per round (rounds coalesce under load).
import pg from 'pg';
import { run, type Pool } from '../lib/db.js';
import type { EventRow } from '../lib/events.js';
import type { Logger } from '../lib/log.js';
import { sqlFile } from '../lib/sql.js';
import type { GatewayOptions } from '../lib/config.js';

const boundQuery = sqlFile('events/bound');
const writersSettled = sqlFile('events/writers_settled');
const settledRange = sqlFile('gateway/settled_range');
const listenQuery = sqlFile('gateway/listen');
const listenKeysQuery = sqlFile('gateway/listen_keys');
const listenPreferencesQuery = sqlFile('gateway/listen_preferences');
const KEYS_CHANNEL = 'oriva_keys';
const PREFERENCES_CHANNEL = 'oriva_preferences';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

export interface ListenerHooks {
  /** Final events in seq order, each seq once; hwm moves after it returns (or its promise settles). */
  onEvents(rows: EventRow[], notifiedAt: Map<number, number>): void | Promise<void>;
  /** After every (re)connect, once both channels are listened to: announcements may have been missed. */
  onConnected?(): void;
  /** An app's keys or the app changed (channel oriva_keys, payload = app id). */
  onKeysChanged?(appId: string): void;
  /** A user's preferences changed (channel oriva_preferences). */
  onPreferencesChanged?(change: PreferencesChange): void;
}

export interface PreferencesChange {
  user_id: string;
  revision: number;
  updated_at: string;
}

/** The payload of oriva_preferences, or null when it is not one (never from our trigger). */
function preferencesChange(payload: string | undefined): PreferencesChange | null {
  try {
    const value = JSON.parse(payload ?? '') as Partial<PreferencesChange>;
    return typeof value.user_id === 'string' && typeof value.revision === 'number' && typeof value.updated_at === 'string'
      ? { user_id: value.user_id, revision: value.revision, updated_at: value.updated_at }
      : null;
  } catch {
    return null;
  }
}

export class EventListener {
  /** Every seq <= hwm has been released (or never will exist). -1 until start() settles. */
  hwm = -1;
  listening = false;
  private client: pg.Client | null = null;
  private closed = false;
  private dirty = false;
  private pumping: Promise<void> | null = null;
  private reconnectDelay: number;
  private reconnectTimer: NodeJS.Timeout | null = null;
  /** When the NOTIFY of a seq arrived (≈ its commit), for the commit → push lag. */
  private readonly notifiedAt = new Map<number, number>();
  /**
   * Release lag: when the first commit announcement not yet covered by a finished pump round came
   * (pendingSince: since the current round took its bound; roundSince: covered by the round running).
   * Under steady traffic each is at most one round old; a round stuck waiting for an older
   * transaction keeps roundSince, so the lag grows until it settles.
   */
  private pendingSince: number | null = null;
  private roundSince: number | null = null;
  /** Resolved at the next NOTIFY: ends a settle wait early. */
  private nextNotify: Promise<void> | null = null;
  private wakeNotify: () => void = () => {};

  constructor(
    private readonly url: string,
    private readonly pool: Pool,
    private readonly log: Logger,
    private readonly options: GatewayOptions,
    private readonly hooks: ListenerHooks,
  ) {
    this.reconnectDelay = options.reconnectMinMs;
  }

  /** Connect the LISTEN client and settle the starting hwm (nothing before it is sent live). */
  async start(): Promise<void> {
    await this.connect();
    await this.pumpOnce(false);
    if (this.dirty) this.kick();
  }

  /** Something may have committed: run a pump round soon (rounds never overlap). */
  kick(): void {
    this.dirty = true;
    this.pendingSince ??= performance.now();
    if (!this.pumping && !this.closed && this.hwm >= 0) this.pumping = this.loop();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = null;
    this.listening = false;
    await client?.end().catch(() => {});
    await this.pumping;
  }

  private async loop(): Promise<void> {
    let delay = this.options.reconnectMinMs;
    while (this.dirty && !this.closed) {
      this.dirty = false;
      try {
        await this.pumpOnce(true);
        delay = this.options.reconnectMinMs;
      } catch (err) {
        if (this.closed) break;
        this.log.warn({ err: (err as Error).message }, 'catch-up query failed; retrying');
        this.dirty = true;
        await sleep(delay);
        delay = Math.min(delay * 2, this.options.reconnectMaxMs);
      }
    }
    this.pumping = null;
  }

  /** Release lag: how long the oldest announced, unreleased commit has waited (0 when caught up). */
  releaseLagMs(): number {
    const since = Math.min(this.roundSince ?? Infinity, this.pendingSince ?? Infinity);
    return since === Infinity ? 0 : performance.now() - since;
  }

  private async pumpOnce(release: boolean): Promise<void> {
    // Announcements so far are covered by this round's bound (a failed round keeps the older time).
    this.roundSince ??= this.pendingSince;
    this.pendingSince = null;
    await this.releaseUpToBound(release);
    this.roundSince = null;
  }

  private async releaseUpToBound(release: boolean): Promise<void> {
    const [bound] = await run<{ max_seq: number; fence: string }>(this.pool, boundQuery);
    const maxSeq = bound!.max_seq;
    if (maxSeq <= this.hwm) return;
    let wait = 1;
    let from = Math.max(this.hwm, 0);
    if (!release) from = maxSeq; // start(): only wait for the fence
    let settled = false;
    for (;;) {
      if (this.closed) return;
      settled ||= (await run<{ settled: boolean }>(this.pool, writersSettled, [bound!.fence]))[0]?.settled === true;
      if (!settled) {
        // An older transaction is still running. Look again at the next commit NOTIFY, or after a
        // short wait (transactions that write no event commit without a NOTIFY).
        this.nextNotify ??= new Promise<void>((resolve) => (this.wakeNotify = resolve));
        await Promise.race([sleep(wait), this.nextNotify]);
        wait = Math.min(wait * 2, 8);
        continue;
      }
      const events = release ? await run<EventRow>(this.pool, settledRange, [from, maxSeq, this.options.pageSize]) : [];
      if (events.length > 0) await this.hooks.onEvents(events, this.notifiedAt);
      if (events.length < this.options.pageSize) break;
      from = events[events.length - 1]!.seq;
      this.hwm = from;
    }
    this.hwm = maxSeq;
    if (this.notifiedAt.size > 10_000) this.notifiedAt.clear();
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url, application_name: 'oriva-gateway-listen', options: '-c role=oriva_system' });
    client.on('notification', (message) => {
      if (message.channel === KEYS_CHANNEL) {
        if (message.payload) this.hooks.onKeysChanged?.(message.payload);
        return;
      }
      if (message.channel === PREFERENCES_CHANNEL) {
        const change = preferencesChange(message.payload);
        if (change) this.hooks.onPreferencesChanged?.(change);
        return;
      }
      const seq = /"seq"\s*:\s*(\d+)/.exec(message.payload ?? '')?.[1];
      if (seq) this.notifiedAt.set(Number(seq), performance.now());
      this.wakeNotify();
      this.nextNotify = null;
      this.kick();
    });
    client.on('error', (err) => this.log.warn({ err: err.message }, 'LISTEN connection error'));
    client.on('end', () => this.lost(client));
    this.client = client;
    await client.connect();
    await client.query(listenQuery.text);
    await client.query(listenKeysQuery.text);
    await client.query(listenPreferencesQuery.text);
    this.listening = true;
    this.reconnectDelay = this.options.reconnectMinMs;
    this.log.debug('listening on oriva_events, oriva_keys and oriva_preferences');
    this.hooks.onConnected?.();
    this.kick(); // catch up on whatever committed while we were not listening
  }

  private lost(client: pg.Client): void {
    if (this.client !== client || this.closed) return;
    this.client = null;
    this.listening = false;
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const delay = this.reconnectDelay;
    this.reconnectDelay = Math.min(this.reconnectDelay * 2, this.options.reconnectMaxMs);
    this.log.warn({ delayMs: delay }, 'LISTEN connection lost; reconnecting');
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.closed) return;
      this.connect().catch((err: Error) => {
        this.log.warn({ err: err.message }, 'LISTEN reconnect failed');
        const failed = this.client;
        if (!failed || this.closed) return; // 'end' already scheduled the next attempt
        this.client = null;
        this.listening = false;
        void failed.end().catch(() => {});
        this.scheduleReconnect();
      });
    }, delay);
  }
}
