// email_digest: one user's email — claim (what is due and still worth sending, or an email a
// previous run left unfinished, with the notifications it lists; the email id is recorded before
// the SMTP call) → render → send →
// record the outcome (sent; retry later with backoff; failed after the last attempt; bouncing on a
// permanent refusal, which pauses the user's email channel). An SMTP failure is a recorded outcome,
// not a job error; the job only fails when the database does (it then runs again and resends the
// claimed email under the same Message-ID: at-least-once delivery, recognisable duplicates).
import type { Task } from 'graphile-worker';
import { run } from '../../lib/db.js';
import { signUnsubscribe, type UnsubscribeScope } from '../../lib/email/unsubscribe.js';
import type { NotificationCategory } from '../../lib/schemas/notifications.js';
import { sqlStatement } from '../../lib/sql.js';
import { renderDigest, type DigestItem } from '../email/render.js';
import { makeSentBatcher } from '../email/sent-batch.js';
import type { EmailOutcome } from '../email/smtp.js';
import type { TaskDeps } from './index.js';

type ItemJson = Omit<DigestItem, 'created_at'> & { created_at: string };
const claim = sqlStatement<{ user_id: string; lease_ms: number; stale_ms: number }, { email_id: string; address: string; resend: boolean; attempts: number; items: ItemJson[] }>('email/claim');
const record = sqlStatement<{ email_id: string; outcome: 'sent' | 'retry' | 'failed' | 'bouncing'; error: string | null; retry_at: Date | null }, Record<string, unknown>>('email/record');

/** Email for the category every listed notification shares, or all email when they differ. */
function scopeOf(items: DigestItem[]): { scope: UnsubscribeScope; what: string } {
  const categories = new Set(items.map((i) => i.category));
  if (categories.size === 1) {
    const category = items[0]!.category as NotificationCategory;
    return { scope: { category }, what: `${category} notifications` };
  }
  return { scope: { all: true }, what: 'all notifications' };
}

export function emailDigest({ config, pool, mailer, metrics, log }: TaskDeps): Task<'email_digest'> {
  const sent = makeSentBatcher(pool);
  return async ({ user_id }) => {
    const { email } = config;
    const [claimed] = await run(pool, claim, { user_id, lease_ms: email.leaseMs, stale_ms: config.gateway.instanceStaleMs });
    if (!claimed) return;
    const items: DigestItem[] = claimed.items.map((i) => ({ ...i, created_at: new Date(i.created_at) }));
    if (items.length === 0) {
      await run(pool, record, { email_id: claimed.email_id, outcome: 'failed', error: 'nothing left to send: the notifications were deleted', retry_at: null });
      return;
    }
    if (!mailer) {
      await run(pool, record, { email_id: claimed.email_id, outcome: 'failed', error: 'SMTP_URL is not set', retry_at: null });
      metrics.emails.inc({ outcome: 'failed' });
      return;
    }
    const { scope, what } = scopeOf(items);
    const token = signUnsubscribe(config.jwtSecret, { userId: user_id, scope, expiresAt: new Date(Date.now() + email.unsubscribeTtlDays * 86_400_000) });
    const message = renderDigest(claimed.email_id, claimed.address, items, {
      from: email.from,
      centerUrl: email.publicUrl,
      unsubscribeUrl: `${email.publicUrl}/unsubscribe?token=${token}`,
      unsubscribeWhat: what,
      messageDomain: new URL(email.publicUrl).hostname,
    });
    const outcome: EmailOutcome = await mailer.send(message);

    const attempt = claimed.attempts + 1;
    if (outcome.kind === 'sent') {
      await sent.record(claimed.email_id);
    } else if (outcome.kind === 'bounce') {
      await run(pool, record, { email_id: claimed.email_id, outcome: 'bouncing', error: outcome.error, retry_at: null });
    } else if (attempt >= email.maxAttempts) {
      await run(pool, record, { email_id: claimed.email_id, outcome: 'failed', error: outcome.error, retry_at: null });
    } else {
      const retryAt = new Date(Date.now() + email.retryBaseMs * 4 ** (attempt - 1));
      await run(pool, record, { email_id: claimed.email_id, outcome: 'retry', error: outcome.error, retry_at: retryAt });
    }
    const label = outcome.kind === 'sent' ? 'sent' : outcome.kind === 'bounce' ? 'bouncing' : attempt >= email.maxAttempts ? 'failed' : 'retry';
    metrics.emails.inc({ outcome: label });
    const line = { emailId: claimed.email_id, userId: user_id, notifications: items.length, attempt, resend: claimed.resend };
    if (outcome.kind === 'sent') log.debug(line, 'email sent');
    else log.warn({ ...line, outcome: label, error: outcome.error }, label === 'retry' ? 'email not sent: will retry' : `email not sent: ${label}`);
  };
}
