// The stats rollup (DESIGN §12): adds settled events to oriva.notification_stats_hourly, a page of
// seqs at a time, from where the last run stopped (oriva.stats_progress). "Settled" as the gateway
// means it (gateway/listener.ts): every seq up to the bound is committed or never will be, so no
// event is skipped because it committed out of seq order, and none is counted twice (the watermark
// moves in the transaction that adds).
import { run, transaction, type Pool } from '../../lib/db.js';
import { sqlFile } from '../../lib/sql.js';

const bound = sqlFile('events/bound');
const writersSettled = sqlFile('events/writers_settled');
const progress = sqlFile('stats/progress');
const rollUp = sqlFile('stats/roll_up');

export interface RollupOptions {
  /** Events per transaction. */
  pageSize?: number;
  /** Give up this run when older writers have not ended by then (the next run starts over). */
  settleTimeoutMs?: number;
}

export interface RollupResult {
  /** The watermark after this run (every event with seq <= it is counted). */
  rolledUpSeq: number;
  /** False when writers older than the bound did not end in time: nothing new was added. */
  settled: boolean;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function rollUpStats(pool: Pool, { pageSize = 20_000, settleTimeoutMs = 20_000 }: RollupOptions = {}): Promise<RollupResult> {
  const [upper] = await run<{ max_seq: string; fence: string }>(pool, bound);
  const maxSeq = Number(upper!.max_seq);
  const deadline = Date.now() + settleTimeoutMs;
  while (!(await run<{ settled: boolean }>(pool, writersSettled, [upper!.fence]))[0]!.settled) {
    if (Date.now() > deadline) {
      const [current] = await run<{ rolled_up_seq: string }>(pool, progress);
      return { rolledUpSeq: Number(current!.rolled_up_seq), settled: false };
    }
    await sleep(50);
  }
  for (;;) {
    const step = await transaction(pool, async (client) => {
      const [current] = await run<{ rolled_up_seq: string }>(client, progress);
      const from = Number(current!.rolled_up_seq);
      if (from >= maxSeq) return { at: from, done: true };
      const to = Math.min(maxSeq, from + pageSize);
      await run(client, rollUp, [from, to]);
      return { at: to, done: to >= maxSeq };
    });
    if (step.done) return { rolledUpSeq: step.at, settled: true };
  }
}
