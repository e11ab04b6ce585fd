// Deferred attempts are enqueued again together in one statement (one commit), one write in flight per
// worker process (lib/coalesce.ts): the attempts deferred while it runs are written together next.
// A burst of one app's deliveries that must wait (its share of the worker taken by hanging endpoints)
// is deferred at hundreds per second, and one commit each kept the other apps' deliveries queued
// behind it (npm run bench -- webhooks, the noisy neighbour). A task awaits the write of its deferral
// before it completes, so a deferred attempt is never lost: if the write fails, every task of the
// batch fails and graphile-worker runs those attempts again.
import { Coalescer } from '../../lib/coalesce.js';
import { run, type Pool } from '../../lib/db.js';
import { sqlStatement } from '../../lib/sql.js';

export interface DeferredAttempt {
  webhookId: string;
  eventId: string;
  attempt: number;
  delayMs: number;
}

const deferAttempts = sqlStatement<{ webhook_ids: string[]; event_ids: string[]; attempts: number[]; delays_ms: number[] }>('deliveries/defer_attempts');

export interface DeferBatcher {
  defer(attempt: DeferredAttempt): Promise<void>;
}

export function makeDeferBatcher(pool: Pool): DeferBatcher {
  const writes = new Coalescer<DeferredAttempt>(async (_key, attempts) => {
    await run(pool, deferAttempts, {
      webhook_ids: attempts.map((a) => a.webhookId),
      event_ids: attempts.map((a) => a.eventId),
      attempts: attempts.map((a) => a.attempt),
      delays_ms: attempts.map((a) => a.delayMs),
    });
    return attempts.map(() => undefined);
  });
  return { defer: (attempt) => writes.add('deferred', attempt) };
}
