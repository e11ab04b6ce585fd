// Connections per user across every gateway instance (DESIGN §6: 10 per user). Each instance
// heartbeats its row in oriva.gateway_instances; a user's connections on an instance whose heartbeat
// is older than instanceStaleMs do not count, and any instance's heartbeat deletes such instances.
// So a crashed instance locks nobody out for longer than instanceStaleMs (≤ 60 s, default 30 s).
import { randomUUID } from 'node:crypto';
import { run, type Pool } from '../lib/db.js';
import type { Logger } from '../lib/log.js';
import { sqlFile } from '../lib/sql.js';
import type { GatewayOptions } from './options.js';

const heartbeat = sqlFile('gateway/heartbeat');
const reregister = sqlFile('gateway/reregister');
const expireInstances = sqlFile('gateway/expire_instances');
const removeInstance = sqlFile('gateway/remove_instance');
const admit = sqlFile('gateway/admit');
const release = sqlFile('gateway/release');
const FOREIGN_KEY_VIOLATION = '23503';

export class ConnectionRegistry {
  readonly instanceId = randomUUID();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly pool: Pool,
    private readonly log: Logger,
    private readonly options: GatewayOptions,
    private readonly maxPerUser: number,
    /** This instance's open user connections (id → user id), to re-register after an expiry. */
    private readonly openUserConnections: () => Iterable<[string, string]>,
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
      const users: string[] = [];
      for (const [id, user] of this.openUserConnections()) {
        ids.push(id);
        users.push(user);
      }
      if (ids.length > 0) await run(this.pool, reregister, [this.instanceId, ids, users]);
    }
    await run(this.pool, expireInstances, [this.options.instanceStaleMs]);
  }

  /** True when the connection was registered; false when the user is at the limit. */
  async admit(connectionId: string, userId: string): Promise<boolean> {
    try {
      return await this.register(connectionId, userId);
    } catch (err) {
      if ((err as { code?: string }).code !== FOREIGN_KEY_VIOLATION) throw err;
      // Another instance expired our row (our heartbeat came late, e.g. a stalled event loop or a
      // slow database): beat now, which puts it and our open connections back, and try once more.
      await this.beat();
      return this.register(connectionId, userId);
    }
  }

  private async register(connectionId: string, userId: string): Promise<boolean> {
    const [row] = await run<{ admitted: boolean }>(this.pool, admit, [this.instanceId, connectionId, userId, this.maxPerUser, this.options.instanceStaleMs]);
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
