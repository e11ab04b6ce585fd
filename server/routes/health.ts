// /healthz: the process answers. /readyz: the database answers and the newest committed
// migration has been applied.
import Router from '@koa/router';
import { run, type Pool } from '../../lib/db.js';
import { latestMigrationHash } from '../../lib/migrate.js';
import { sqlFile } from '../../lib/sql.js';

const migrationsCurrent = sqlFile('health/migrations_current');

export function healthRoutes(pool: Pool): Router {
  const expectedHash = latestMigrationHash();
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    try {
      const [row] = await run<{ current: boolean }>(pool, migrationsCurrent, [expectedHash]);
      ctx.status = row?.current ? 200 : 503;
      ctx.body = row?.current ? { status: 'ready' } : { status: 'not_ready', reason: 'migrations are not current' };
    } catch {
      ctx.status = 503;
      ctx.body = { status: 'not_ready', reason: 'database unreachable' };
    }
  });
  return router;
}
