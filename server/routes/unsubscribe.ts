// One-click unsubscribe (RFC 8058) from an email's List-Unsubscribe link, outside the JSON API:
//   GET  /unsubscribe?token=…  a small page that asks (mail scanners follow links: a GET changes nothing)
//   POST /unsubscribe?token=…  switches email off for the token's category, or all email, and says so;
//                              mail clients POST "List-Unsubscribe=One-Click" here (the body is not needed)
// A forged, altered or malformed token is a 400 page, an expired one a 410 page; neither changes anything.
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Config } from '../../lib/config.js';
import { inTransaction, run, type Pool } from '../../lib/db.js';
import { verifyUnsubscribe, type UnsubscribeScope } from '../../lib/email/unsubscribe.js';
import { sqlStatement } from '../../lib/sql.js';

const unsubscribe = sqlStatement<{ user_id: string; path: string[] }, { revision: string }>('preferences/unsubscribe');

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escape = (value: string) => value.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

const whatOf = (scope: UnsubscribeScope) => ('all' in scope ? 'all notifications' : `${scope.category} notifications`);
/** Where the token's switch is in the stored (normalised) document. */
const pathOf = (scope: UnsubscribeScope) => ('all' in scope ? ['channels', 'email'] : ['categories', scope.category, 'email']);

function page(ctx: Context, status: number, title: string, body: string): void {
  ctx.status = status;
  ctx.type = 'text/html; charset=utf-8';
  ctx.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'");
  ctx.set('X-Frame-Options', 'DENY');
  ctx.set('Referrer-Policy', 'no-referrer');
  ctx.set('Cache-Control', 'no-store');
  ctx.body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)} · Oriva</title><style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#101828}button{font:inherit;padding:.5rem 1rem}</style></head>
<body><h1>${escape(title)}</h1>${body}</body></html>`;
}

export function unsubscribeRoutes({ config, pool }: { config: Config; pool: Pool }): Router {
  const router = new Router();
  const settings = `<p><a href="${escape(config.email.publicUrl)}/">Your notification settings</a></p>`;

  const verified = (ctx: Context) => {
    const token = typeof ctx.query.token === 'string' ? ctx.query.token : '';
    const claims = verifyUnsubscribe(config.jwtSecret, token);
    if (claims === 'expired') page(ctx, 410, 'This link has expired', `<p>Unsubscribe links work for ${config.email.unsubscribeTtlDays} days. You can switch emails off in your settings.</p>${settings}`);
    else if (claims === 'invalid') page(ctx, 400, 'This link is not valid', `<p>It may have been copied incompletely. You can switch emails off in your settings.</p>${settings}`);
    return typeof claims === 'object' ? claims : null;
  };

  router.get('/unsubscribe', (ctx) => {
    const claims = verified(ctx);
    if (!claims) return;
    const action = `/unsubscribe?token=${encodeURIComponent(String(ctx.query.token))}`;
    page(ctx, 200, `Stop emails for ${whatOf(claims.scope)}?`,
      `<p>You will still see them in your notification center.</p><form method="post" action="${escape(action)}"><button type="submit">Stop these emails</button></form>${settings}`);
  });

  router.post('/unsubscribe', async (ctx) => {
    const claims = verified(ctx);
    if (!claims) return;
    const changed = await inTransaction(pool, { userId: claims.userId }, (client) =>
      run(client, unsubscribe, { user_id: claims.userId, path: pathOf(claims.scope) }));
    if (changed.length === 0) {
      page(ctx, 404, 'Nothing to unsubscribe from', `<p>There are no email settings for this account.</p>${settings}`);
      return;
    }
    page(ctx, 200, `You will no longer get emails for ${whatOf(claims.scope)}`, `<p>Changed your mind? Switch them on again in your settings.</p>${settings}`);
  });

  return router;
}
