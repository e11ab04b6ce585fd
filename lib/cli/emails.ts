// `oriva emails --user <id>`: what the email channel holds for one user — deliveries still pending
// (grouped by when they are due) and the most recent emails with their status, attempts, last error
// and the notifications each listed.
import { run, type Pool } from '../db.js';
import { sqlStatement } from '../sql.js';

const userReport = sqlStatement<{ user_id: string; limit: number }, {
  kind: 'pending' | 'email'; at: Date; email_id: string | null; status: string | null; attempts: number | null;
  last_error: string | null; notifications: { notification_id: string; app_id: string; title: string }[];
}>('email/user_report');

export async function emailsReport(pool: Pool, userId: string, limit = 20) {
  const rows = await run(pool, userReport, { user_id: userId, limit });
  return {
    user_id: userId,
    pending: rows.filter((r) => r.kind === 'pending').map((r) => ({ due_at: r.at.toISOString(), notifications: r.notifications })),
    recent: rows.filter((r) => r.kind === 'email').reverse().map((r) => ({
      email_id: r.email_id, status: r.status, attempts: r.attempts, last_error: r.last_error, at: r.at.toISOString(), notifications: r.notifications,
    })),
  };
}
