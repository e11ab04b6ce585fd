// The guides in docs/ (issue 18, item 7; DESIGN §13 "every code example in them runs in the test
// suite"): every fenced block of docs/developer-guide.md, docs/webhooks.md and docs/realtime.md is
// extracted and run, in order, against a real stack — API server, worker and gateway on ports picked
// here, a fresh test database per guide, INSTALL_REQUIRED on (as in production), loopback allowlisted
// for webhooks (as `npm start` does) and GATEWAY_REPLAY_LIMIT=50 (so that realtime.md can show a gap).
//
// The convention (each guide says it in a line at its top):
//   ```sh           bash with `set -euo pipefail`, in the repository root (so `npx oriva` is the CLI),
//                   with the environment a reader sets: ORIVA_URL (the API's origin), ORIVA_GATEWAY_URL
//                   (the gateway's, http://), ORIVA_APP_ID (work-buddy), ORIVA_API_KEY, USER_ID
//                   (user_456), USER_TOKEN, and the operator's DATABASE_URL, JWT_SECRET and SECRETS_KEY
//                   for the CLI. Needs curl on PATH (a clear failure otherwise, never a skip).
//   ```js           an ES module run with `node` (Node 20) from a scratch folder inside the repository
//                   (.docs-run/, git-ignored) so that `ws` resolves; its import of '@oriva/client' is
//                   rewritten to client/dist/index.js (`npm test` builds it; by hand: npx tsc -p client).
//                   Same environment as sh.
//   ```js browser   a module for a web page: run with `node` given what a page has and nothing more —
//                   WebSocket (the `ws` package), `location` (the page's origin), and `fetch` resolving
//                   relative URLs against it; both send the page's Origin as a browser does (the
//                   gateway's ALLOWED_ORIGINS lists it). It may not mention process, require, Buffer
//                   or node: modules. The page's origin is a stand-in for the reader's backend, answering
//                   GET /oriva-session with {"gateway_url", "token"} (a fresh user token for USER_ID).
//                   A page does not exit: it runs until its output matches, then it is stopped.
//   ```output       what the code block before it prints on stdout (required after every code block).
//                   Lines are compared with trailing spaces removed; `…` stands for any text, across
//                   lines too. The whole output must match, and sh and js blocks must exit with 0.
// Any other fence (another language, `~~~`, an indented fence) fails the test: no block goes unrun.
//
// Credentials are handed on the way a reader copies them: the output of `npx oriva apps create`
// sets ORIVA_API_KEY, that of `npx oriva token` sets USER_TOKEN for the blocks after it (the
// developer guide starts with neither; for the other two guides the app exists, user_456 installed
// it, and both are set).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import t, { type Test } from 'tap';
import { listen } from '../../lib/listen.js';
import { fromRoot } from '../../lib/paths.js';
import { signUserToken } from '../../lib/tokens.js';
import { testDatabase } from '../helpers/db.js';
import { TEST_SECRETS_KEY } from '../helpers/secrets-key.js';
import { createTestApp, startTestGateway, startTestServer, startTestWorker, TEST_JWT_SECRET, userAuth } from '../helpers/stack.js';

const APP_ID = 'work-buddy';
const USER_ID = 'user_456';
const STACK_ENV = { INSTALL_REQUIRED: 'true', WEBHOOK_ALLOWLIST: '127.0.0.1,localhost,::1', GATEWAY_REPLAY_LIMIT: '50' };
const BLOCK_TIMEOUT_MS = 30_000;
const CLIENT = fromRoot('client/dist/index.js');

interface Block {
  lang: 'sh' | 'js' | 'browser';
  line: number;
  code: string;
  expected: string;
}

/** The guide's code blocks, each with the output block that follows it; or what breaks the convention. */
function parseGuide(markdown: string): { blocks: Block[]; problems: string[] } {
  const blocks: Block[] = [];
  const problems: string[] = [];
  const lines = markdown.split('\n');
  let pending: Omit<Block, 'expected'> | null = null;
  for (let i = 0; i < lines.length; i++) {
    const fence = /^(\s*)(```|~~~)\s*(.*)$/.exec(lines[i]!);
    if (!fence) continue;
    const [, indent = '', marker = '', rest = ''] = fence;
    const line = i + 1;
    const info = rest.trim();
    const start = i;
    do i++;
    while (i < lines.length && !/^\s*(```|~~~)\s*$/.test(lines[i]!));
    if (i >= lines.length) {
      problems.push(`line ${line}: a fence that is never closed`);
      break;
    }
    const body = lines.slice(start + 1, i).join('\n');
    if (indent !== '' || marker !== '```') {
      problems.push(`line ${line}: only unindented \`\`\` fences are run (found ${JSON.stringify(indent + marker)})`);
      continue;
    }
    const lang = info === 'sh' ? 'sh' : info === 'js' ? 'js' : info === 'js browser' ? 'browser' : info === 'output' ? 'output' : null;
    if (lang === null) {
      problems.push(`line ${line}: \`\`\`${info} is not one of sh, js, js browser, output`);
    } else if (lang === 'output') {
      if (pending) blocks.push({ ...pending, expected: body });
      else problems.push(`line ${line}: an output block that follows no code block`);
      pending = null;
    } else {
      if (pending) problems.push(`line ${pending.line}: a ${pending.lang} block without an output block after it`);
      pending = { lang, line, code: body };
    }
  }
  if (pending) problems.push(`line ${pending.line}: a ${pending.lang} block without an output block after it`);
  return { blocks, problems };
}

const normalise = (text: string) => text.replace(/\r\n/g, '\n').split('\n').map((l) => l.trimEnd()).join('\n').trim();

/** The whole output matches the template, `…` standing for any text. */
function outputMatches(template: string, actual: string): boolean {
  const pattern = normalise(template).split('…').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[\\s\\S]*?');
  return new RegExp(`^${pattern}$`).test(normalise(actual));
}

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** The environment of a reader's shell: ours without tap's coverage hooks (the guides' code is not the service's). */
function readerEnv(vars: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^(NODE_OPTIONS|NODE_V8_COVERAGE|TAP|TAP_.*|_TAPJS_.*|DATABASE_URL|LOG_LEVEL)$/.test(name)) continue;
    env[name] = value;
  }
  return { ...env, ...vars };
}

/** Process groups of blocks still running: stopped however this file ends. */
const running = new Set<number>();
const stopAll = () => {
  for (const pid of running) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // the group is gone already
    }
  }
};
process.once('exit', stopAll);
t.teardown(stopAll);

/**
 * Runs a command in its own process group; resolves when it exits, or — with `until` — as soon as its
 * output satisfies it (then the group is stopped). The group is killed at the timeout either way, and
 * when the command exits (anything it left running in the background).
 */
function run(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; until?: (stdout: string) => boolean }): Promise<Ran> {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  running.add(child.pid!);
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  const stop = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // the group is gone already
    }
  };
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, BLOCK_TIMEOUT_MS);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (options.until?.(stdout)) stop();
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => {
      clearTimeout(timer);
      stop();
      running.delete(child.pid!);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}

const BROWSER_PAGE = `// What a web page has, for a \`js browser\` block run by node: a WebSocket and a fetch that send
// the page's Origin (a browser sends it), \`location\`, and relative URLs resolved against it.
import WebSocket from 'ws';
globalThis.location = new URL(process.env.PAGE_ORIGIN);
globalThis.WebSocket = class extends WebSocket {
  constructor(url, protocols) {
    super(url, protocols, { origin: location.origin });
  }
};
const nodeFetch = globalThis.fetch;
globalThis.fetch = (input, init = {}) => {
  const url = new URL(String(input), location.href);
  const headers = new Headers(init.headers);
  if (url.origin !== location.origin) headers.set('origin', location.origin);
  return nodeFetch(url, { ...init, headers });
};
`;

const NOT_IN_A_BROWSER = /\bprocess\b|\brequire\s*\(|\bBuffer\b|['"]node:|__dirname/;

interface Stack {
  vars: Record<string, string>;
  pageOrigin: string;
}

/** A fresh stack for one guide: its database, the three processes, and the reader's environment. */
async function startStack(t: Test, provisioned: boolean): Promise<Stack> {
  // The reader's backend, for `js browser` blocks: the page's origin (allowed by the gateway).
  const vars: Record<string, string> = {};
  const page = createServer((req, res) => {
    if (req.url !== '/oriva-session') return void res.writeHead(404).end();
    void signUserToken(TEST_JWT_SECRET, USER_ID, 3600).then((token) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ gateway_url: vars.ORIVA_GATEWAY_URL, token }));
    });
  });
  const pageOrigin = `http://127.0.0.1:${await listen(page, 0, '127.0.0.1')}`;
  t.teardown(() => new Promise((resolve) => page.close(resolve)));

  const env = { ...STACK_ENV, ALLOWED_ORIGINS: pageOrigin };
  const db = await testDatabase(t);
  const server = await startTestServer(t, db, env);
  await startTestWorker(t, db, env);
  const gateway = await startTestGateway(t, db, env);
  Object.assign(vars, {
    ORIVA_URL: server.url,
    ORIVA_GATEWAY_URL: gateway.url.replace(/^ws/, 'http'),
    ORIVA_APP_ID: APP_ID,
    USER_ID,
    DATABASE_URL: db.url,
    JWT_SECRET: TEST_JWT_SECRET,
    SECRETS_KEY: TEST_SECRETS_KEY,
  });
  if (provisioned) {
    const app = await createTestApp(db, { id: APP_ID, name: 'Work Buddy' });
    const user = await userAuth(USER_ID);
    const installed = await fetch(`${server.url}/api/v1/users/${USER_ID}/apps/${APP_ID}`, { method: 'PUT', headers: user.auth });
    t.equal(installed.status, 201, `${USER_ID} installed ${APP_ID}`);
    Object.assign(vars, { ORIVA_API_KEY: app.apiKey, USER_TOKEN: user.token });
  }
  return { vars, pageOrigin };
}

const scratch = fromRoot('.docs-run', `${process.pid}-${randomBytes(4).toString('hex')}`);
mkdirSync(scratch, { recursive: true });
t.teardown(() => {
  rmSync(scratch, { recursive: true, force: true });
  try {
    rmdirSync(fromRoot('.docs-run')); // only when no other run uses it
  } catch {
    // another run's scratch folder is in it
  }
});
writeFileSync(join(scratch, 'browser-page.mjs'), BROWSER_PAGE);
const hasCurl = spawnSync('bash', ['-c', 'command -v curl'], { encoding: 'utf8' }).status === 0;

async function runBlock(t: Test, guide: string, index: number, block: Block, stack: Stack): Promise<Ran | null> {
  if (block.lang === 'sh') {
    if (!hasCurl) {
      t.fail('curl is not on PATH: the guides\' sh blocks need it (install curl)');
      return null;
    }
    return run('bash', ['-c', `set -euo pipefail\n${block.code}`], { cwd: fromRoot(), env: readerEnv(stack.vars) });
  }
  if (!existsSync(CLIENT)) {
    t.fail('client/dist/index.js is missing: build the client first (npx tsc -p client; npm test does it)');
    return null;
  }
  const file = join(scratch, `${guide.replace(/\W/g, '-')}-${index + 1}.mjs`);
  writeFileSync(file, block.code.replace(/from\s+(['"])@oriva\/client\1/g, `from '${pathToFileURL(CLIENT).href}'`));
  if (block.lang === 'js') return run(process.execPath, [file], { cwd: scratch, env: readerEnv(stack.vars) });
  const forbidden = NOT_IN_A_BROWSER.exec(block.code);
  if (forbidden) {
    t.fail(`line ${block.line}: a browser block uses ${JSON.stringify(forbidden[0])}, which a page does not have`);
    return null;
  }
  return run(process.execPath, ['--import', pathToFileURL(join(scratch, 'browser-page.mjs')).href, file], {
    cwd: scratch,
    env: readerEnv({ PAGE_ORIGIN: stack.pageOrigin }),
    until: (stdout) => outputMatches(block.expected, stdout),
  });
}

/** What a reader copies from a block's output into their environment. */
function handOn(block: Block, stdout: string, vars: Record<string, string>): void {
  if (/^npx oriva apps create\b/m.test(block.code)) vars.ORIVA_API_KEY = (JSON.parse(stdout) as { api_key: string }).api_key;
  if (/^npx oriva token\b/m.test(block.code)) vars.USER_TOKEN = stdout.trim();
}

async function checkGuide(t: Test, guide: string, provisioned: boolean, minimumBlocks: number): Promise<void> {
  const { blocks, problems } = parseGuide(readFileSync(fromRoot('docs', guide), 'utf8'));
  t.same(problems, [], `${guide} follows the block convention`);
  t.ok(blocks.length >= minimumBlocks, `${guide} has ${blocks.length} blocks to run`);
  const stack = await startStack(t, provisioned);
  for (const [index, block] of blocks.entries()) {
    const name = `${guide}:${block.line} (${block.lang === 'browser' ? 'js browser' : block.lang})`;
    const ran = await runBlock(t, guide, index, block, stack);
    if (!ran) continue;
    const { code, stdout, stderr, timedOut } = ran;
    if (block.lang === 'browser') {
      t.ok(outputMatches(block.expected, stdout), `${name} prints what the guide shows`, { found: stdout, wanted: block.expected, stderr });
      continue;
    }
    t.ok(!timedOut && code === 0, `${name} exits 0`, { code, timedOut, stderr, stdout });
    const matched = outputMatches(block.expected, stdout);
    t.ok(matched, `${name} prints what the guide shows`, { found: stdout, wanted: block.expected, stderr });
    if (matched) handOn(block, stdout, stack.vars);
  }
}

t.test('the block convention itself', async (t) => {
  t.ok(outputMatches('{"id":"…","n":2}', '{"id":"abc","n":2}\n'));
  t.notOk(outputMatches('{"id":"…","n":2}', '{"id":"abc","n":3}'), 'a different value');
  t.notOk(outputMatches('a', 'a\nb'), 'more output than shown');
  t.ok(outputMatches('HTTP/1.1 201 Created\n…\n{"a":1}', 'HTTP/1.1 201 Created\r\nx: y\r\n\r\n{"a":1}'), '… spans lines');
  const parsed = parseGuide(['```sh', 'echo hi', '```', 'It prints:', '```output', 'hi', '```', '```json', '{}', '```', '```js', 'x', '```', '  ```sh', '```'].join('\n'));
  t.same(parsed.blocks.map((b) => [b.lang, b.code, b.expected]), [['sh', 'echo hi', 'hi']]);
  t.same(parsed.problems, [
    'line 8: ```json is not one of sh, js, js browser, output',
    'line 14: only unindented ``` fences are run (found "  ```")',
    'line 11: a js block without an output block after it',
  ]);
});

t.test('docs/developer-guide.md', (t) => checkGuide(t, 'developer-guide.md', false, 10));
t.test('docs/webhooks.md', (t) => checkGuide(t, 'webhooks.md', true, 5));
t.test('docs/realtime.md', (t) => checkGuide(t, 'realtime.md', true, 5));
