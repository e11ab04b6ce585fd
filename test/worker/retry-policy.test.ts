// The retry rules in one table.
import t from 'tap';
import { afterFailure, backoffMs, parseRetryAfter } from '../../lib/webhooks/retry-policy.js';

const defaults = { max_retries: 5, retry_backoff_seconds: 1 };

t.test('backoff 1, 2, 4, 8, 16 s from retry_backoff_seconds, jitter only later, never earlier', async (t) => {
  t.same([1, 2, 3, 4, 5].map((n) => backoffMs(n, 1, () => 0)), [1000, 2000, 4000, 8000, 16000]);
  t.same([1, 2].map((n) => backoffMs(n, 3, () => 0)), [3000, 6000], 'scaled by retry_backoff_seconds');
  t.equal(backoffMs(1, 1, () => 0.999), 1250);
});

t.test('decisions', async (t) => {
  t.same(afterFailure({ attempt: 1, status: 500, retryAfterMs: null }, defaults, 1, () => 0), { action: 'retry', delayMs: 1000 });
  t.same(afterFailure({ attempt: 5, status: 500, retryAfterMs: null }, defaults, 5, () => 0), { action: 'retry', delayMs: 16000 }, 'the 5th retry');
  t.same(afterFailure({ attempt: 6, status: 500, retryAfterMs: null }, defaults, 6), { action: 'give_up' }, 'after max_retries');
  t.match(afterFailure({ attempt: 1, status: 410, retryAfterMs: null }, defaults, 1), { action: 'disable', reason: /410/ });
  t.match(afterFailure({ attempt: 2, status: 500, retryAfterMs: null }, defaults, 100), { action: 'disable', reason: /100 consecutive/ });
  t.same(afterFailure({ attempt: 1, status: 429, retryAfterMs: 30_000 }, defaults, 1, () => 0), { action: 'retry', delayMs: 30_000 }, 'Retry-After on 429');
  t.same(afterFailure({ attempt: 1, status: 503, retryAfterMs: 9e9 }, defaults, 1, () => 0), { action: 'retry', delayMs: 3600_000 }, 'capped at an hour');
  t.same(afterFailure({ attempt: 1, status: 500, retryAfterMs: 30_000 }, defaults, 1, () => 0), { action: 'retry', delayMs: 1000 }, 'ignored on other statuses');
  t.same(afterFailure({ attempt: 1, status: 429, retryAfterMs: 10 }, defaults, 1, () => 0), { action: 'retry', delayMs: 1000 }, 'never sooner than the backoff');
});

t.test('Retry-After: seconds or HTTP date', async (t) => {
  t.equal(parseRetryAfter('120'), 120_000);
  t.equal(parseRetryAfter(new Date(1_000_000 + 5000).toUTCString(), 1_000_000), 5000);
  t.equal(parseRetryAfter('soon'), null);
  t.equal(parseRetryAfter(undefined), null);
});
