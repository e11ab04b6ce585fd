// One write in flight per key; what arrives meanwhile gathers and is written together when it
// finishes. At low load an item is written at once (no added wait); under load the batches grow with
// it instead of queueing one statement each on the same row. Used by the rate-limit counters
// (server/middleware/rate-limit.ts) and the worker's records of sent emails (worker/email/sent-batch.ts)
// and of successful webhook deliveries (worker/deliveries/success-batch.ts).
// The server's group commit (server/group-commit.ts) is the same idea with several flushes in flight
// and members that may not share one.

/** Writes one key's gathered items; answers each item itself (the coalescer ignores its outcome). */
export type Flush<T> = (key: string, items: T[]) => Promise<void>;

export class Coalescer<T> {
  /** Keys with a write in flight, and the items gathered for their next one. */
  private readonly gathering = new Map<string, T[]>();

  constructor(private readonly flush: Flush<T>) {}

  add(key: string, item: T): void {
    const waiting = this.gathering.get(key);
    if (waiting) {
      waiting.push(item);
      return;
    }
    this.gathering.set(key, []);
    void this.write(key, [item]);
  }

  private async write(key: string, items: T[]): Promise<void> {
    await this.flush(key, items).catch(() => {});
    const next = this.gathering.get(key)!;
    if (next.length === 0) {
      this.gathering.delete(key);
      return;
    }
    this.gathering.set(key, []);
    await this.write(key, next);
  }
}
