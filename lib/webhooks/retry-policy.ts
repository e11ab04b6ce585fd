// Every retry rule of webhook delivery, in one place.
//
// Attempt n (1-based) that fails is followed by attempt n+1 after
//   retry_backoff_seconds × 2^(n-1) × (1 + jitter), jitter uniform in [0, 0.25)
// (default 1 s: 1, 2, 4, 8, 16 s, each up to 25 % later, never earlier), while n ≤ max_retries.
// A 429 or 503 with Retry-After waits at least that long (capped at one hour). 410 Gone disables
// the webhook at once; so do DISABLE_AFTER_CONSECUTIVE_FAILURES failures in a row. An attempt whose
// request could not be built (an unsendable event) is recorded and never retried.

export const DISABLE_AFTER_CONSECUTIVE_FAILURES = 100;

// Circuit breaker. After BREAKER_THRESHOLD failed attempts in a row (timeouts, refused connections,
// error answers), an endpoint is not called for a cool-down that starts at BREAKER_BASE_MS after its
// last failure and doubles with every further failure, up to BREAKER_MAX_MS. Attempts that come due
// meanwhile are deferred to its end without calling; the first one after it is the probe: a success
// closes the breaker (the failure count resets), a failure opens it again for longer. The state is the
// webhook row's consecutive_failures and last_failure_at, so every worker process sees the same.
export const BREAKER_THRESHOLD = 5;
export const BREAKER_BASE_MS = 10_000;
export const BREAKER_MAX_MS = 600_000;

/** While the breaker is open: ms until the endpoint may be probed again; null when it is closed. */
export function breakerWaitMs(consecutiveFailures: number, lastFailureAt: Date | null, now = Date.now()): number | null {
  if (consecutiveFailures < BREAKER_THRESHOLD || lastFailureAt === null) return null;
  const coolDown = Math.min(BREAKER_BASE_MS * 2 ** (consecutiveFailures - BREAKER_THRESHOLD), BREAKER_MAX_MS);
  const wait = lastFailureAt.getTime() + coolDown - now;
  return wait > 0 ? wait : null;
}
export const MAX_RETRY_AFTER_MS = 3600_000;
export const JITTER = 0.25;

export interface FailedAttempt {
  attempt: number;
  status: number | null;
  retryAfterMs: number | null;
  /** The request could not even be built (the event cannot be serialised): retrying cannot help. */
  unsendable?: boolean;
}

export interface WebhookRetrySettings {
  max_retries: number;
  retry_backoff_seconds: number;
}

export type FailureDecision =
  | { action: 'disable'; reason: string }
  | { action: 'retry'; delayMs: number }
  | { action: 'give_up' };

export function backoffMs(attempt: number, backoffSeconds: number, random: () => number = Math.random): number {
  const base = backoffSeconds * 1000 * 2 ** (attempt - 1);
  return Math.round(base * (1 + JITTER * random()));
}

/** What follows a failed attempt, given the webhook's failure count after recording it. */
export function afterFailure(failed: FailedAttempt, settings: WebhookRetrySettings, consecutiveFailures: number, random: () => number = Math.random): FailureDecision {
  if (failed.unsendable) return { action: 'give_up' };
  if (failed.status === 410) return { action: 'disable', reason: 'endpoint answered 410 Gone' };
  if (consecutiveFailures >= DISABLE_AFTER_CONSECUTIVE_FAILURES) {
    return { action: 'disable', reason: `${consecutiveFailures} consecutive failed deliveries` };
  }
  if (failed.attempt > settings.max_retries) return { action: 'give_up' };
  let delayMs = backoffMs(failed.attempt, settings.retry_backoff_seconds, random);
  if ((failed.status === 429 || failed.status === 503) && failed.retryAfterMs !== null) {
    delayMs = Math.max(delayMs, Math.min(failed.retryAfterMs, MAX_RETRY_AFTER_MS));
  }
  return { action: 'retry', delayMs };
}

/** Retry-After as milliseconds from now: delta-seconds or an HTTP date; null when absent or invalid. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | null {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined) return null;
  const text = raw.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return null;
  return Math.max(0, date - now);
}
