// Fair share of the worker's slots. An attempt holds an app slot and an endpoint slot only while its
// HTTP call runs; at most `perApp` calls of one app and `perEndpoint` calls to one webhook run at once
// in this process. An attempt that finds its app or endpoint full waits briefly when the calls holding
// it are young (a healthy endpoint frees a slot in milliseconds); when they have run longer than that
// (a hanging endpoint) it is not admitted at once, and the caller defers it. So a hanging endpoint
// never occupies more than its app's share of the worker while other apps' deliveries wait.

export interface AdmissionLimits {
  perApp: number;
  perEndpoint: number;
  /** How long an attempt may wait for a slot; also the age after which a call counts as slow. */
  waitMs: number;
}

/**
 * Defaults for a worker of this concurrency: half of it per app, and per endpoint as much as its app
 * may have (set WEBHOOK_ENDPOINT_CONCURRENCY lower to spread one app's share over its endpoints).
 */
export function defaultAdmissionLimits(concurrency: number, overrides: { perApp?: number | null; perEndpoint?: number | null } = {}): AdmissionLimits {
  const perApp = overrides.perApp ?? Math.max(1, Math.ceil(concurrency / 2));
  return { perApp, perEndpoint: overrides.perEndpoint ?? perApp, waitMs: 250 };
}

export interface Slot {
  release(): void;
}

/** A slot, or how long to defer the attempt: short after a wait for young calls, longer behind slow ones. */
export type Admission = { slot: Slot } | { deferMs: number };

const jittered = (min: number, max: number) => min + Math.round(Math.random() * (max - min));

/** Start times of the calls running under one key (an app or an endpoint). */
class Running {
  private readonly calls = new Map<string, number[]>();

  count(key: string): number {
    return this.calls.get(key)?.length ?? 0;
  }

  /** When the oldest running call under this key started (Infinity when none runs). */
  oldest(key: string): number {
    return this.calls.get(key)?.[0] ?? Infinity;
  }

  add(key: string, at: number): void {
    const list = this.calls.get(key);
    if (list) list.push(at);
    else this.calls.set(key, [at]);
  }

  remove(key: string, at: number): void {
    const list = this.calls.get(key);
    if (!list) return;
    list.splice(list.indexOf(at), 1);
    if (list.length === 0) this.calls.delete(key);
  }
}

export class DeliveryAdmission {
  private readonly apps = new Running();
  private readonly endpoints = new Running();
  private readonly waiters = new Set<() => void>();

  constructor(readonly limits: AdmissionLimits) {}

  /**
   * A slot for one call to this webhook of this app, or a delay to defer the attempt by: 200–700 ms
   * when young calls did not free a slot in time, 1–3 s when slow calls (a hanging endpoint) hold it,
   * so the attempts of a hanging app do not churn the queue.
   */
  async acquire(appId: string, webhookId: string): Promise<Admission> {
    const deadline = performance.now() + this.limits.waitMs;
    for (;;) {
      const slot = this.tryAcquire(appId, webhookId);
      if (slot) return { slot };
      const now = performance.now();
      if (this.blockedBySlowCalls(appId, webhookId, now)) return { deferMs: jittered(1000, 3000) };
      if (now >= deadline) return { deferMs: jittered(200, 700) };
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, deadline - now);
        this.waiters.add(wake);
      });
    }
  }

  tryAcquire(appId: string, webhookId: string): Slot | null {
    if (this.apps.count(appId) >= this.limits.perApp || this.endpoints.count(webhookId) >= this.limits.perEndpoint) return null;
    const at = performance.now();
    this.apps.add(appId, at);
    this.endpoints.add(webhookId, at);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.apps.remove(appId, at);
        this.endpoints.remove(webhookId, at);
        for (const wake of [...this.waiters]) wake();
      },
    };
  }

  /** Every call holding the full app or endpoint has run longer than waitMs: no slot is coming soon. */
  private blockedBySlowCalls(appId: string, webhookId: string, now: number): boolean {
    const slowSince = now - this.limits.waitMs;
    const appFull = this.apps.count(appId) >= this.limits.perApp;
    const endpointFull = this.endpoints.count(webhookId) >= this.limits.perEndpoint;
    return (appFull && this.apps.oldest(appId) < slowSince) || (endpointFull && this.endpoints.oldest(webhookId) < slowSince);
  }
}
