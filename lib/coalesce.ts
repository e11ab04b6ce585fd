// One write in flight per key; what arrives meanwhile gathers and is written together when it
// finishes. At low load an item is written at once (no added wait); under load the batches grow with
// it instead of queueing one statement each on the same row. Used by the rate-limit counters
// (server/middleware/rate-limit.ts), the worker's records of sent emails (worker/email/sent-batch.ts)
// and of successful webhook deliveries (worker/deliveries/success-batch.ts), its loads of delivery
// attempts (worker/deliveries/prepare.ts) and its deferrals of them (worker/deliveries/defer-batch.ts).
// The server's group commit (server/group-commit.ts) is the same idea with members that may not
// share one flush, and a second flush in flight once enough creates wait.

/** Writes one key's gathered items: one answer per item, in order. A failure fails every item of the batch. */
export type Flush<T, R> = (key: string, items: T[]) => Promise<R[]>;

interface Waiting<T, R> {
  item: T;
  resolve: (answer: R) => void;
  reject: (err: unknown) => void;
}

export class Coalescer<T, R = void> {
  /** Keys with a write in flight, and the items gathered for their next one. */
  private readonly gathering = new Map<string, Waiting<T, R>[]>();

  constructor(private readonly flush: Flush<T, R>) {}

  /** The item's own answer, once the write it joined is done. */
  add(key: string, item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const waiting = this.gathering.get(key);
      if (waiting) {
        waiting.push({ item, resolve, reject });
        return;
      }
      this.gathering.set(key, []);
      void this.write(key, [{ item, resolve, reject }]);
    });
  }

  private async write(key: string, batch: Waiting<T, R>[]): Promise<void> {
    try {
      const answers = await this.flush(key, batch.map((w) => w.item));
      batch.forEach((w, i) => w.resolve(answers[i]!));
    } catch (err) {
      for (const w of batch) w.reject(err);
    }
    const next = this.gathering.get(key)!;
    if (next.length === 0) {
      this.gathering.delete(key);
      return;
    }
    this.gathering.set(key, []);
    await this.write(key, next);
  }
}
