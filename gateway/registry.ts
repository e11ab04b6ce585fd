// Connections per user and per app across every gateway instance (DESIGN §6: 10 per user, 100 per app). Each instance
// heartbeats its row in oriva.gateway_instances; a user's connections on an instance whose heartbeat
// is older than instanceStaleMs do not count, and any instance's heartbeat deletes such instances.
// So a crashed instance locks nobody out for longer than instanceStaleMs (≤ 60 s, default 30 s).
import { randomUUID } from 'node:crypto';
import { run, type Pool } from '../lib/db.js';
import type { Logger } from '../lib/log.js';
import { sqlFile, sqlStatement } from '../lib/sql.js';
import type { GatewayOptions } from '../lib/config.js';

const heartbeat = sqlFile('gateway/heartbeat');
const reregister = sqlFile('gateway/reregister');
const expireInstances = sqlFile('gateway/expire_instances');
const removeInstance = sqlFile('gateway/remove_instance');
const admit = sqlStatement<{
  instance_id: string; connection_id: string; user_id: string | null; app_id: string | null; max_connections: number; stale_ms: number;
}, { admitted: boolean }>('gateway/admit');
const release = sqlFile('gateway/release');
const FOREIGN_KEY_VIOLATION = '23503';

/** Who a connection counts against: a user, or an app (its app connections). */
export type Holder = { userId: string; appId?: undefined } | { appId: string; userId?: undefined };

export class ConnectionRegistry {
  readonly instanceId = randomUUID();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly pool: Pool,
    private readonly log: Logger,
    private readonly options: GatewayOptions,
    private readonly limits: { perUser: number; perApp: number },
    /** This instance's open connections and their holders, to re-register after an expiry. */
    private readonly openConnections: () => Iterable<[string, Holder]>,
  ) {}

  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => {
      this.beat().catch((err: Error) => this.log.warn({ err: err.message }, 'gateway heartbeat failed'));
    }, this.options.heartbeatMs);
    this.timer.unref();
  }

  async beat(): Promise<void> {
    const [row] = await run<{ inserted: boolean }>(this.pool, heartbeat, [this.instanceId]);
    if (row?.inserted) {
      const ids: string[] = [];
      const users: (string | null)[] = [];
      const apps: (string | null)[] = [];
      for (const [id, holder] of this.openConnections()) {
        ids.push(id);
        users.push(holder.userId ?? null);
        apps.push(holder.appId ?? null);
      }
      if (ids.length > 0) await run(this.pool, reregister, [this.instanceId, ids, users, apps]);
    }
    await run(this.pool, expireInstances, [this.options.instanceStaleMs]);
  }

  /** True when the connection was registered; false when its user or app is at the limit. */
  async admit(connectionId: string, holder: Holder): Promise<boolean> {
    try {
      return await this.register(connectionId, holder);
    } catch (err) {
      if ((err as { code?: string }).code !== FOREIGN_KEY_VIOLATION) throw err;
      // Another instance expired our row (our heartbeat came late, e.g. a stalled event loop or a
      // slow database): beat now, which puts it and our open connections back, and try once more.
      await this.beat();
      return this.register(connectionId, holder);
    }
  }

  private async register(connectionId: string, holder: Holder): Promise<boolean> {
    const max = holder.userId !== undefined ? this.limits.perUser : this.limits.perApp;
    const [row] = await run(this.pool, admit, {
      instance_id: this.instanceId, connection_id: connectionId, user_id: holder.userId ?? null, app_id: holder.appId ?? null,
      max_connections: max, stale_ms: this.options.instanceStaleMs,
    });
    return row?.admitted === true;
  }

  release(connectionId: string): void {
    run(this.pool, release, [connectionId]).catch((err: Error) => this.log.warn({ err: err.message, connectionId }, 'could not release a connection'));
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await run(this.pool, removeInstance, [this.instanceId]).catch((err: Error) => this.log.warn({ err: err.message }, 'could not remove the gateway instance row'));
  }
}
