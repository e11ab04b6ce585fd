// The page route on its own: what it serves, with which headers, and that the demo credentials
// exist only outside production and only when npm start handed them over.
import { createServer } from 'node:http';
import Koa from 'koa';
import t from 'tap';
import { listen } from '../../lib/listen.js';
import { pageRoutes, type PageDeps } from '../../server/routes/page.js';
import { loadConfig } from '../../lib/config.js';

const testConfig = (env: Record<string, string> = {}) => loadConfig({ NODE_ENV: 'test', ...env });
const demo = { appId: 'demo-app', apiKey: 'oriva_sk_demo', userId: 'demo-user', userToken: 'a.b.c', gatewayUrl: 'ws://127.0.0.1:4555' };

async function serve(deps: PageDeps): Promise<string> {
  const app = new Koa();
  app.use(pageRoutes(deps).routes());
  const handle = app.callback();
  const server = createServer((req, res) => void handle(req, res));
  const port = await listen(server, 0, '127.0.0.1');
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${port}`;
}

t.test('serves the page with a strict Content-Security-Policy', async (t) => {
  const base = await serve({ config: testConfig({ GATEWAY_PORT: '4001' }), demo });
  const res = await fetch(`${base}/`);
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /^text\/html/);
  const csp = res.headers.get('content-security-policy') ?? '';
  t.match(csp, "script-src 'self'");
  t.match(csp, "default-src 'none'");
  t.match(csp, "frame-ancestors 'none'");
  t.match(csp, 'connect-src \'self\' ws://127.0.0.1:4001 wss://127.0.0.1:4001 http://127.0.0.1:4001 https://127.0.0.1:4001 http://127.0.0.1:4555 ws://127.0.0.1:4555',
    'the gateway on this host and the demo gateway, for the WebSocket and the long-poll');
  t.notMatch(csp, 'unsafe-inline');
  t.equal(res.headers.get('x-content-type-options'), 'nosniff');
  const html = await res.text();
  t.match(html, '<script type="module" src="/assets/app.js"></script>');
  t.notMatch(html, /<script>|\son[a-z]+=/, 'no inline script or handler');
});

t.test('serves the assets by exact name with their types, nothing else', async (t) => {
  const base = await serve({ config: testConfig() });
  for (const [name, type] of [
    ['app.js', /^text\/javascript/],
    ['view.js', /^text\/javascript/],
    ['time.js', /^text\/javascript/],
    ['style.css', /^text\/css/],
    ['icon.svg', /^image\/svg\+xml/],
    ['client/index.js', /^text\/javascript/],
    ['client/feed.js', /^text\/javascript/],
    ['client/generated/openapi.js', /^text\/javascript/],
  ] as const) {
    const res = await fetch(`${base}/assets/${name}`);
    t.equal(res.status, 200, name);
    t.match(res.headers.get('content-type'), type, name);
  }
  for (const path of ['/assets/index.html', '/assets/..%2Fpackage.json', '/assets/%2e%2e%2f%2e%2e%2fpackage.json', '/assets/nope.js', '/assets/client/index.d.ts', '/assets/client/..%2F..%2Fpackage.json', '/assets/client/generated/../../../package.json']) {
    t.equal((await fetch(`${base}${path}`)).status, 404, path);
  }
});

t.test('page config: the gateway port, always; no credentials', async (t) => {
  const base = await serve({ config: testConfig({ GATEWAY_PORT: '4001' }) });
  const res = await fetch(`${base}/page-config.json`);
  t.equal(res.status, 200);
  t.same(await res.json(), { gateway_port: 4001, gateway_path: '/api/v1/events/stream', dev: false });
  t.equal((await fetch(`${base}/dev-config.json`)).status, 404, 'no demo credentials given: no dev config');
});

t.test('dev config: the demo credentials when not in production', async (t) => {
  const base = await serve({ config: testConfig({ NODE_ENV: 'development' }), demo });
  t.same(await (await fetch(`${base}/page-config.json`)).json(), { gateway_port: 3001, gateway_path: '/api/v1/events/stream', dev: true });
  const res = await fetch(`${base}/dev-config.json`);
  t.equal(res.status, 200);
  t.equal(res.headers.get('cache-control'), 'no-store');
  t.same(await res.json(), { app_id: 'demo-app', api_key: 'oriva_sk_demo', user_id: 'demo-user', user_token: 'a.b.c', gateway_url: 'ws://127.0.0.1:4555', outbox_url: null });
});

t.test('production never exposes the demo credentials, even if they were passed', async (t) => {
  const base = await serve({ config: testConfig({ NODE_ENV: 'production', JWT_SECRET: 'production-secret-production-secret-0123', SECRETS_KEY: `k1:${Buffer.alloc(32, 7).toString('base64')}` }), demo });
  t.equal((await fetch(`${base}/dev-config.json`)).status, 404);
  const config = await (await fetch(`${base}/page-config.json`)).json();
  t.equal(config.dev, false);
  const page = await (await fetch(`${base}/`)).text();
  t.notMatch(page, 'oriva_sk_');
  t.notMatch((await fetch(`${base}/`)).headers.get('content-security-policy') ?? '', '4555', 'the demo gateway is not in the CSP either');
});
