// Group commit (issue 19): concurrent single creates share one transaction. A create that finds a
// commit in flight waits with the others that arrive meanwhile; when a flush frees up, all of them
// are written in one transaction and committed together. A second flush starts beside the first only
// once GROUP_COMMIT_MORE_AT creates wait. At low load a create starts its flush at once: no added
// wait. Each member keeps what it would have had alone:
// its rate-limit hit (taken for the flush's members together as the flush starts, each answered with
// the hits left before its own, in arrival order: a refused member is answered 429 and not written),
// its row-level-security actor (oriva.act_as before its writes), its Idempotency-Key (claimed, and
// replayed or stored, in the same transaction), its own answer (201, 409, 403 not_installed, …),
// computed by the kind's write from per-item outcomes, and an answer only after the commit.
//
// A member's own failure is an outcome, not an exception (the statements take arrays and answer per
// item). An exception from a shared statement (a value Postgres refuses, a deadlock) rolls the flush
// back and each member is written again alone, so a member never fails another. The database
// going away fails the whole flush: every member is answered 503 and none was written.
import { actAs, revokedCredentials, run, transaction, type Actor, type Pool, type PoolClient } from '../lib/db.js';
import { AppError, isDatabaseUnavailable } from '../lib/errors.js';
import { sqlFile } from '../lib/sql.js';
import { claimKey, storeReply, type Reply } from './middleware/idempotency.js';
import type { RateLimiters, SharedHit } from './middleware/rate-limit.js';

const releaseKey = sqlFile('idempotency/release');

/** One kind of create that can share a transaction: writes items of one app, answering each. */
export interface GroupKind<I> {
  name: string;
  /**
   * Write the items (one app; its actor is set) in the open transaction: one reply or AppError per
   * item, in order. Throws only when a statement fails as a whole.
   */
  write(client: PoolClient, appId: string, items: I[]): Promise<(Reply | AppError)[]>;
}

export interface GroupMember<I> {
  actor: Actor & { appId: string };
  /** Idempotency-Key and request hash, when the request sent a key. */
  key: { key: string; hash: string } | null;
  item: I;
  /** Its rate-limit hit, taken when it joins a flush; `taken` gets the headers it answers with. */
  hit?: { limit: SharedHit; taken: (headers: Record<string, string>) => void } | undefined;
}

interface Waiting {
  kind: GroupKind<unknown>;
  member: GroupMember<unknown>;
  resolve: (reply: Reply) => void;
  reject: (err: unknown) => void;
  /** Its hit was taken (by a flush that then failed and is written again member by member: not twice). */
  hitTaken?: boolean;
}

export interface GroupCommitOptions {
  /** GROUP_COMMIT: share transactions; off, every create is a transaction of its own (the old path). */
  enabled: boolean;
  /** Flushes (transactions, connections) in flight at once, at most. */
  flushes: number;
  /**
   * A flush beyond the first starts only while at least this many creates wait. Each flush pays a
   * transaction's fixed cost, so one at a time makes larger groups; under a burst (or behind a slow
   * flush) the others run side by side.
   */
  moreAt: number;
  /** Most members in one flush. */
  maxMembers: number;
}

export interface GroupCommitStats {
  flushes: number;
  members: number;
  /** Flushes rolled back by a shared statement and written again member by member. */
  splits: number;
}

export class GroupCommit {
  private readonly queue: Waiting[] = [];
  private inFlight = 0;
  readonly stats: GroupCommitStats = { flushes: 0, members: 0, splits: 0 };

  constructor(
    private readonly pool: Pool,
    private readonly options: GroupCommitOptions,
    private readonly takeHits: RateLimiters['takeShared'],
  ) {}

  /** Write one member with whoever else is waiting; its reply once the transaction committed. */
  submit<I>(kind: GroupKind<I>, member: GroupMember<I>): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      const waiting: Waiting = { kind: kind, member, resolve, reject };
      if (!this.options.enabled) {
        void this.flush([waiting]);
        return;
      }
      this.queue.push(waiting);
      this.startFlushes();
    });
  }

  private startFlushes(): void {
    while (this.inFlight < this.options.flushes && this.queue.length >= (this.inFlight === 0 ? 1 : this.options.moreAt)) {
      const members = this.take();
      this.inFlight += 1;
      void this.flush(members).finally(() => {
        this.inFlight -= 1;
        this.startFlushes();
      });
    }
  }

  /**
   * The next flush's members, in arrival order, up to maxMembers. A request whose Idempotency-Key is
   * already in this flush waits for the next one: alone it would have waited for the first to commit.
   */
  private take(): Waiting[] {
    const taken: Waiting[] = [];
    const keys = new Set<string>();
    for (let i = 0; i < this.queue.length && taken.length < this.options.maxMembers;) {
      const waiting = this.queue[i]!;
      const key = waiting.member.key ? `${waiting.member.actor.appId}\n${waiting.member.key.key}` : null;
      if (key !== null && keys.has(key)) {
        i += 1;
        continue;
      }
      if (key !== null) keys.add(key);
      taken.push(waiting);
      this.queue.splice(i, 1);
    }
    return taken;
  }

  private async flush(members: Waiting[]): Promise<void> {
    let replies: Map<Waiting, Reply | AppError>;
    try {
      members = await this.withinRateLimits(members);
      if (members.length === 0) return;
      replies = await this.writeTogether(members);
    } catch (err) {
      if (members.length > 1 && !isDatabaseUnavailable(err)) {
        this.stats.splits += 1;
        for (const member of members) await this.flush([member]);
        return;
      }
      for (const { reject } of members) reject(err);
      return;
    }
    this.stats.flushes += 1;
    this.stats.members += members.length;
    for (const waiting of members) {
      const reply = replies.get(waiting)!;
      if (reply instanceof AppError) waiting.reject(reply);
      else waiting.resolve(reply);
    }
  }

  /** Take the hits members have not had taken yet, together: a refused member is answered 429 and leaves the flush. */
  private async withinRateLimits(members: Waiting[]): Promise<Waiting[]> {
    const taking = members.filter((w) => w.member.hit && !w.hitTaken);
    if (taking.length === 0) return members;
    const answers = await this.takeHits(taking.map((w) => w.member.hit!.limit));
    const refused = new Set<Waiting>();
    taking.forEach((waiting, i) => {
      waiting.hitTaken = true;
      const answer = answers[i]!;
      if (answer instanceof AppError) {
        refused.add(waiting);
        waiting.reject(answer);
      } else {
        waiting.member.hit!.taken(answer);
      }
    });
    return members.filter((w) => !refused.has(w));
  }

  /** One transaction: per actor, claim the keys, write the items, store or give back the keys; commit. */
  private writeTogether(members: Waiting[]): Promise<Map<Waiting, Reply | AppError>> {
    return transaction(this.pool, async (client) => {
      const replies = new Map<Waiting, Reply | AppError>();
      for (const group of actorGroups(members)) {
        const { actor } = group[0]!.member;
        if (!(await actAs(client, actor, { begin: false }))) {
          for (const waiting of group) replies.set(waiting, revokedCredentials());
          continue;
        }
        const writing: Waiting[] = [];
        for (const waiting of group) {
          const { key } = waiting.member;
          if (!key) {
            writing.push(waiting);
            continue;
          }
          try {
            const stored = await claimKey(client, actor.appId, key.key, key.hash);
            if (stored) replies.set(waiting, { ...stored, replayed: true });
            else writing.push(waiting);
          } catch (err) {
            if (!(err instanceof AppError)) throw err;
            replies.set(waiting, err);
          }
        }
        if (writing.length === 0) continue;
        const written = await group[0]!.kind.write(client, actor.appId, writing.map((w) => w.member.item));
        for (const [i, waiting] of writing.entries()) {
          const reply = written[i]!;
          replies.set(waiting, reply);
          const { key } = waiting.member;
          if (!key) continue;
          if (reply instanceof AppError) await run(client, releaseKey, [actor.appId, key.key]);
          else await storeReply(client, actor.appId, key.key, reply);
        }
      }
      return replies;
    }, { genericPlans: true });
  }
}

/**
 * Members by kind and actor (app, key), each group's keyed members in key order, groups in app order:
 * flushes in flight at once claim keys in one global order, so they cannot deadlock on them.
 */
function actorGroups(members: Waiting[]): Waiting[][] {
  const groups = new Map<string, Waiting[]>();
  for (const waiting of members) {
    const { actor } = waiting.member;
    const id = [actor.appId, actor.platform ? 'p' : '', actor.keyHash?.toString('hex') ?? '', waiting.kind.name].join('\n');
    const group = groups.get(id);
    if (group) group.push(waiting);
    else groups.set(id, [waiting]);
  }
  const keyOf = (w: Waiting) => w.member.key?.key ?? '';
  return [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, group]) => group.sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0)));
}
