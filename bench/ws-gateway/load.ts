// A load-generating client process for bench/gateway.bench.ts (used against both gateways): opens
// many WebSocket connections (`ws` client), or long-polls as many users (undici, one keep-alive
// connection a client), then counts received events until told to stop.
// Talks to its parent over IPC: {opened}, {counted}, and with `record` {received: [seq, at]…}.
import WebSocket from 'ws';
import { signUserToken } from '../../lib/tokens.js';
import { loadClient } from '../load.js';

interface Job {
  url: string; // ws://host:port/api/v1/events/stream, or http://host:port/api/v1/events/poll with poll
  count: number;
  /** Each connection as a distinct user (`<userPrefix><i>`, JWTs signed with secret), or all as one app key. */
  userPrefix?: string;
  /** The first user's number (`<userPrefix><offset + i>`). */
  offset?: number;
  secret?: string;
  apiKey?: string;
  concurrency: number;
  /** Long-poll (GET url?after=<next_after>&wait=25, back to back, as client/src/live.ts does) instead of a WebSocket. */
  poll?: boolean;
  /** Keep each event's receive time by seq, and count events received twice or by another user. */
  record?: boolean;
}

const job = JSON.parse(process.env.LOAD_JOB!) as Job;
const now = () => performance.timeOrigin + performance.now();
const sockets: WebSocket[] = [];
let events = 0;
let lastEventAt = 0;
let failed = 0;
const received = new Map<number, number>();
let duplicates = 0;
let misaddressed = 0;
/** Long-poll: clients polling, polls refused (429) and polls failed after the first. */
let polling = 0;
let refused = 0;
let errors = 0;

function onEvent(user: string, event: { seq: number; user_id: string } | null): void {
  events += 1;
  lastEventAt = now();
  if (!event) return;
  if (event.user_id !== user) misaddressed += 1;
  if (received.has(event.seq)) duplicates += 1;
  else received.set(event.seq, lastEventAt);
}

const userOf = (i: number) => `${job.userPrefix}${(job.offset ?? 0) + i}`;
const tokenOf = async (i: number) => job.apiKey ?? (await signUserToken(job.secret!, userOf(i), 3600));

async function open(i: number): Promise<void> {
  const token = await tokenOf(i);
  await new Promise<void>((resolve) => {
    const ws = new WebSocket(job.url, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false });
    ws.on('message', (data: Buffer) => {
      if (data[9] === 0x65 /* {"type":"event" */) onEvent(userOf(i), job.record ? JSON.parse(data.toString()) : null);
      else resolve();
    });
    ws.on('error', () => {
      failed += 1;
      resolve();
    });
    sockets.push(ws);
  });
}

const url = new URL(job.url);
const http = job.poll ? loadClient(url.origin, job.count) : null;

/** One polling client: a first poll with wait=0 answers at once (ready, counts) with the newest seq, then polls from there. */
async function poll(i: number): Promise<void> {
  const headers = { authorization: `Bearer ${await tokenOf(i)}` };
  const get = async (query: string): Promise<{ messages: any[]; next_after: number } | null> => {
    const res = await http!.request({ method: 'GET', path: `${url.pathname}?${query}`, headers });
    if (res.statusCode === 200) return (await res.body.json()) as any;
    await res.body.dump();
    if (res.statusCode === 429) refused += 1;
    else errors += 1;
    return null;
  };
  const first = await get('wait=0').catch(() => null);
  if (!first) {
    failed += 1;
    return;
  }
  polling += 1;
  void (async () => {
    let after = first.next_after;
    for (;;) {
      const answer = await get(`after=${after}&wait=25`).catch(() => {
        errors += 1;
        return null;
      });
      if (!answer) {
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      for (const message of answer.messages) if (message.type === 'event') onEvent(userOf(i), job.record ? message : null);
      after = answer.next_after;
    }
  })();
}

let next = 0;
await Promise.all(Array.from({ length: job.concurrency }, async () => {
  while (next < job.count) await (job.poll ? poll(next++) : open(next++));
}));
process.send!({ opened: job.poll ? polling : sockets.length - failed, failed });
process.on('message', (message: { cmd: string }) => {
  if (message.cmd === 'count') process.send!({ counted: events, lastEventAt });
  if (message.cmd === 'received') process.send!({ received: [...received], duplicates, misaddressed, refused, errors });
  if (message.cmd === 'reset') events = 0;
  if (message.cmd === 'stop') {
    for (const ws of sockets) ws.terminate();
    process.exit(0);
  }
});
