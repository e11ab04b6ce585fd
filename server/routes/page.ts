// The notification center page (Oriva Core's live inbox): `/` and its static assets from
// server/public, with the client SDK the pages run on (client/dist, built by `npm ci`'s prepare
// script and by `npm test`) under /assets/client/; the admin console `/admin` (platform operators) and its chart library; plus two
// small JSON documents the notification center starts from:
//   GET /page-config.json  always: { gateway_port } so the page can find the gateway on its own host
//   GET /dev-config.json   only when NODE_ENV is not production AND the server was started with demo
//                          credentials (npm start): the demo user token, the demo app's API key and
//                          the gateway URL. In production the route does not exist at all.
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Config } from '../../lib/config.js';
import type { CaughtMessage } from '../../lib/dev/mail-catcher.js';
import { fromRoot } from '../../lib/paths.js';
import { outboxPage } from './outbox.js';

/** What `npm start` hands the page so a newcomer is signed in and can send test notifications. */
export interface DemoCredentials {
  appId: string;
  apiKey: string;
  userId: string;
  userToken: string;
  /** ws://host:port of the gateway, e.g. ws://127.0.0.1:3001 */
  gatewayUrl: string;
  /** npm start without SMTP_URL: what the local mail catcher received, shown at /dev/outbox. */
  outbox?: { messages: CaughtMessage[] } | undefined;
}

export interface PageDeps {
  config: Config;
  demo?: DemoCredentials | undefined;
}

const PUBLIC_DIR = fileURLToPath(new URL('../public/', import.meta.url));
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};
// The chart library of the admin console, served from our own origin (its package in node_modules).
const VENDOR: Record<string, { file: string; type: string }> = {
  'uplot.js': { file: fromRoot('node_modules', 'uplot', 'dist', 'uPlot.esm.js'), type: TYPES['.js']! },
  'uplot.css': { file: fromRoot('node_modules', 'uplot', 'dist', 'uPlot.min.css'), type: TYPES['.css']! },
};
// The client SDK's build: every .js file, by its path inside client/dist (index.js, generated/openapi.js, …).
const CLIENT_DIST = fromRoot('client', 'dist');
const HOSTNAME = /^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])$/;

/** Demo credentials are only ever exposed outside production, and only when npm start passed them. */
export function devConfigAvailable(deps: PageDeps): boolean {
  return deps.config.nodeEnv !== 'production' && deps.demo !== undefined;
}

function contentSecurityPolicy(ctx: Context, deps: PageDeps): string {
  // The page talks to its own origin and to the gateway (another port, so another origin).
  const sockets = new Set<string>();
  // Its WebSocket, and the long-poll it falls back to when WebSockets are blocked.
  if (HOSTNAME.test(ctx.hostname)) {
    for (const scheme of ['ws', 'wss', 'http', 'https']) sockets.add(`${scheme}://${ctx.hostname}:${deps.config.gatewayPort}`);
  }
  if (devConfigAvailable(deps)) {
    const origin = new URL(deps.demo!.gatewayUrl.replace(/^ws/, 'http')).origin;
    sockets.add(origin).add(origin.replace(/^http/, 'ws'));
  }
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    // app icons are third-party https images
    "img-src 'self' https: data:",
    `connect-src 'self' ${[...sockets].join(' ')}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

const ADMIN_CSP = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
].join('; ');

function securityHeaders(ctx: Context): void {
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Referrer-Policy', 'no-referrer');
  ctx.set('Cache-Control', 'no-cache');
}

/** The client SDK's built modules (paths relative to client/dist); a missing build is a startup error. */
function clientFiles(): string[] {
  if (!existsSync(join(CLIENT_DIST, 'index.js'))) {
    throw new Error('The client SDK is not built (client/dist/index.js is missing): run `npm ci` or `npx tsc -p client`');
  }
  return readdirSync(CLIENT_DIST, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.js'));
}

export function pageRoutes(deps: PageDeps): Router {
  // Only the files that exist at startup are served, by exact name: no path ever reaches the disk.
  const assets = new Map<string, string>();
  for (const name of readdirSync(PUBLIC_DIR)) {
    const type = TYPES[extname(name)];
    if (type && name !== 'index.html' && name !== 'admin.html') assets.set(name, type);
  }
  const router = new Router();

  router.get('/', async (ctx) => {
    securityHeaders(ctx);
    ctx.set('Content-Security-Policy', contentSecurityPolicy(ctx, deps));
    ctx.set('X-Frame-Options', 'DENY');
    ctx.type = TYPES['.html']!;
    ctx.body = await readFile(join(PUBLIC_DIR, 'index.html'));
  });

  // The admin console (platform operators): the page is public, everything it shows comes from API
  // calls made with a platform app's key, so nothing is rendered for anyone else.
  router.get('/admin', async (ctx) => {
    securityHeaders(ctx);
    ctx.set('Content-Security-Policy', ADMIN_CSP);
    ctx.set('X-Frame-Options', 'DENY');
    ctx.type = TYPES['.html']!;
    ctx.body = await readFile(join(PUBLIC_DIR, 'admin.html'));
  });

  for (const file of clientFiles()) {
    router.get(`/assets/client/${file}`, async (ctx) => {
      securityHeaders(ctx);
      ctx.type = TYPES['.js']!;
      ctx.body = await readFile(join(CLIENT_DIST, file));
    });
  }

  router.get('/assets/vendor/:name', async (ctx, next) => {
    const vendored = VENDOR[ctx.params.name ?? ''];
    if (!vendored) return next() as Promise<void>;
    securityHeaders(ctx);
    ctx.type = vendored.type;
    ctx.body = await readFile(vendored.file);
  });

  router.get('/assets/:name', async (ctx, next) => {
    const type = assets.get(ctx.params.name ?? '');
    if (!type) return next() as Promise<void>;
    securityHeaders(ctx);
    ctx.type = type;
    ctx.body = await readFile(join(PUBLIC_DIR, ctx.params.name!));
  });

  router.get('/page-config.json', (ctx) => {
    securityHeaders(ctx);
    ctx.body = { gateway_port: deps.config.gatewayPort, gateway_path: '/api/v1/events/stream', dev: devConfigAvailable(deps) };
  });

  if (devConfigAvailable(deps)) {
    const demo = deps.demo!;
    router.get('/dev-config.json', (ctx) => {
      securityHeaders(ctx);
      ctx.set('Cache-Control', 'no-store');
      ctx.body = {
        app_id: demo.appId,
        api_key: demo.apiKey,
        user_id: demo.userId,
        user_token: demo.userToken,
        gateway_url: demo.gatewayUrl,
        outbox_url: demo.outbox ? '/dev/outbox' : null,
      };
    });
    if (demo.outbox) {
      const outbox = demo.outbox;
      router.get('/dev/outbox', async (ctx) => {
        securityHeaders(ctx);
        ctx.set('Cache-Control', 'no-store');
        ctx.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'");
        ctx.type = TYPES['.html']!;
        ctx.body = await outboxPage(outbox.messages);
      });
    }
  }
  return router;
}
