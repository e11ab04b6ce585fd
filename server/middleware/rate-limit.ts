// Rate limits (DESIGN §6) with koa-ratelimit, shared by every server process through Postgres.
// koa-ratelimit's "redis" driver (async-ratelimiter) needs one thing from its `db`: a command
// `ratelimiter(key, nowMs, durationMs, max, peek)` answering [remaining, resetSeconds, max]
// (normally a Lua script it installs with defineCommand). PostgresLimiterDb answers it with
// oriva.rate_limit_take(), a counter row per key and window, so N processes share one budget.
import type { Context, Middleware } from 'koa';
import ratelimit from 'koa-ratelimit';
import type { Config } from '../../lib/config.js';
import { Coalescer } from '../../lib/coalesce.js';
import { run, type Pool } from '../../lib/db.js';
import { AppError } from '../../lib/errors.js';
import { sqlFile } from '../../lib/sql.js';

const take = sqlFile('ratelimit/take');

export type LimitName = 'events' | 'notifications' | 'queries' | 'webhooks' | 'broadcasts';

export interface Taken {
  remaining: number; // hits left before this call; 0 = limited
  resetMs: number;
}

async function takeOnce(pool: Pool, key: string, durationMs: number, max: number, cost: number): Promise<Taken> {
  const [row] = await run<{ remaining: number; reset_ms: number }>(pool, take, [key, durationMs, max, cost]);
  return { remaining: Number(row?.remaining ?? 0), resetMs: Number(row?.reset_ms ?? Date.now() + durationMs) };
}

interface Take {
  durationMs: number;
  max: number;
  cost: number;
}

/**
 * Takes of one key share a call (the hot row is one app's counter: with group commit, its update was
 * the one round trip left per create). While a take of a key is in flight, the next ones wait and go
 * to Postgres together (lib/coalesce.ts), their costs summed; each is answered with the hits left
 * before its own, in arrival order — what it would have got one after another. When the sum does not
 * fit (near the limit), they are taken one by one, so each gets exactly its own answer.
 */
export class HitTaker {
  private readonly takes: Coalescer<Take, Taken>;

  constructor(pool: Pool) {
    this.takes = new Coalescer<Take, Taken>(async (key, batch) => {
      const { durationMs, max } = batch[0]!;
      const total = batch.reduce((sum, w) => sum + w.cost, 0);
      const taken = await takeOnce(pool, key, durationMs, max, total);
      if (batch.length === 1 || taken.remaining >= total) {
        let remaining = taken.remaining;
        return batch.map((w) => {
          const answer = { remaining, resetMs: taken.resetMs };
          remaining -= w.cost;
          return answer;
        });
      }
      const answers: Taken[] = [];
      for (const w of batch) answers.push(await takeOnce(pool, key, durationMs, max, w.cost));
      return answers;
    });
  }

  take(key: string, durationMs: number, max: number, cost: number): Promise<Taken> {
    return this.takes.add(key, { durationMs, max, cost });
  }

  /**
   * One hit each for `count` requests, in order: each answered with the hits left before its own, as
   * if they had come one after another. One call when all fit; near the limit, one by one.
   */
  async takeEach(key: string, durationMs: number, max: number, count: number): Promise<Taken[]> {
    const all = await this.take(key, durationMs, max, count);
    if (count === 1 || all.remaining >= count) return Array.from({ length: count }, (_, i) => ({ remaining: all.remaining - i, resetMs: all.resetMs }));
    const answers: Taken[] = [];
    for (let i = 0; i < count; i++) answers.push(await this.take(key, durationMs, max, 1));
    return answers;
  }
}

/** The `db` koa-ratelimit's redis driver talks to, answered by Postgres. */
export class PostgresLimiterDb {
  constructor(private readonly hits: HitTaker) {}

  defineCommand(): void {
    // The command below is built in; nothing to install.
  }

  async ratelimiter(key: string, _nowMs: number, durationMs: number, max: number, peek: string): Promise<[number, number, number]> {
    const taken = await this.hits.take(key, durationMs, max, peek === '1' ? 0 : 1);
    // Rounded up: a client that waits until the reset (or Retry-After) finds the window renewed.
    return [taken.remaining, Math.ceil(taken.resetMs / 1000), max];
  }
}

/** A create's hit, taken when it joins a shared transaction (server/group-commit.ts) instead of up front. */
export interface SharedHit {
  name: LimitName;
  id: string;
}

export interface RateLimiters {
  for(name: LimitName, id: (ctx: Context) => string): Middleware;
  /**
   * One hit for each create of a shared transaction, in its order: the rate-limit headers it answers
   * with, or its 429 — what the middleware of `for` gives one request.
   */
  takeShared(hits: SharedHit[]): Promise<(Record<string, string> | AppError)[]>;
  /** Charge extra hits (a batch of n notifications costs n); throws 429 when they are not left. */
  charge(ctx: Context, name: LimitName, id: string, cost: number): Promise<void>;
}

export function rateLimiters(pool: Pool, config: Config): RateLimiters {
  const hits = new HitTaker(pool);
  const db = new PostgresLimiterDb(hits);
  const durationOf = (name: LimitName) => (name === 'broadcasts' ? config.rateLimits.broadcastWindowMs : config.rateLimits.windowMs);
  const limitMessage = (name: LimitName) => `Rate limit exceeded (${config.rateLimits[name]} ${name} requests per ${Math.round(durationOf(name) / 60000)} min)`;
  return {
    for(name, id) {
      const duration = durationOf(name);
      const limiter = ratelimit({
        driver: 'redis',
        db: db as never,
        namespace: namespaceOf(name),
        duration,
        max: config.rateLimits[name],
        id: (ctx) => id(ctx),
        throw: true,
        errorMessage: limitMessage(name),
      });
      return asAppError(limiter);
    },
    async takeShared(shared) {
      const byKey = new Map<string, number[]>();
      shared.forEach(({ name, id }, i) => {
        const key = `${namespaceOf(name)}:${id}`;
        const indexes = byKey.get(key);
        if (indexes) indexes.push(i);
        else byKey.set(key, [i]);
      });
      const answers: (Record<string, string> | AppError)[] = [];
      await Promise.all([...byKey].map(async ([key, indexes]) => {
        const { name } = shared[indexes[0]!]!;
        const max = config.rateLimits[name];
        const taken = await hits.takeEach(key, durationOf(name), max, indexes.length);
        indexes.forEach((index, i) => {
          const { remaining, resetMs } = taken[i]!;
          answers[index] = remaining > 0
            ? limitHeaders(max, remaining - 1, resetMs)
            : limited(limitMessage(name), resetMs, limitHeaders(max, 0, resetMs));
        });
      }));
      return answers;
    },
    async charge(ctx, name, id, cost) {
      if (cost <= 0) return;
      const max = config.rateLimits[name];
      const taken = await hits.take(`${namespaceOf(name)}:${id}`, durationOf(name), max, cost);
      if (taken.remaining >= cost) {
        ctx.set('X-RateLimit-Remaining', String(taken.remaining - cost));
        return;
      }
      throw limited(`Rate limit exceeded: ${cost} ${name} requested, fewer left in this window`, taken.resetMs, limitHeaders(max, taken.remaining, taken.resetMs));
    },
  };
}

/** Where a limit's counters live: koa-ratelimit's namespace, and the prefix of the keys taken directly. */
const namespaceOf = (name: LimitName) => `rl:${name}`;

/** The X-RateLimit-* headers koa-ratelimit sends, for the hits taken directly (the reset in seconds, rounded up). */
function limitHeaders(max: number, remaining: number, resetMs: number): Record<string, string> {
  return { 'X-RateLimit-Limit': String(max), 'X-RateLimit-Remaining': String(remaining), 'X-RateLimit-Reset': String(Math.ceil(resetMs / 1000)) };
}

/** A 429 with Retry-After counted up from the window's reset (rounded up to a second, as the reset header is). */
function limited(message: string, resetMs: number, headers: Record<string, string>): AppError {
  const after = Math.max(1, Math.ceil((Math.ceil(resetMs / 1000) * 1000 - Date.now()) / 1000));
  return new AppError(429, 'rate_limited', message, { retry_after: after }, { ...headers, 'Retry-After': String(after) });
}

/** koa-ratelimit throws a plain 429 HttpError; turn it into the one error envelope. */
function asAppError(limiter: Middleware): Middleware {
  return async (ctx, next) => {
    let downstream = false;
    try {
      await limiter(ctx, async () => {
        downstream = true;
        await next();
      });
    } catch (err) {
      if (downstream || err instanceof AppError) throw err;
      const e = err as { status?: number; message?: string; headers?: Record<string, string | number> };
      if (e.status !== 429) throw err;
      const headers = Object.fromEntries(Object.entries(e.headers ?? {}).map(([k, v]) => [k, String(v)]));
      // koa-ratelimit rounds Retry-After down; limited() counts it up from the (rounded-up) reset.
      throw limited(e.message ?? 'Rate limit exceeded', Number(headers['X-RateLimit-Reset'] ?? 0) * 1000, headers);
    }
  };
}
