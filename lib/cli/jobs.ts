// `oriva jobs`: queue depth per task, the newest jobs that failed for good, and disabled webhooks.
import { run, type Pool } from '../db.js';
import { sqlFile } from '../sql.js';

const jobSummary = sqlFile('worker/job_summary');
const failedJobs = sqlFile('worker/failed_jobs');
const disabledWebhooks = sqlFile('worker/disabled_webhooks');

export async function jobsReport(pool: Pool, limit = 20) {
  const [queues, failed, disabled] = await Promise.all([
    run(pool, jobSummary),
    run(pool, failedJobs, [limit]),
    run(pool, disabledWebhooks, [limit]),
  ]);
  return { queues, failed_jobs: failed, disabled_webhooks: disabled };
}
