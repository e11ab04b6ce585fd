// A load-generating client process for bench/gateway.bench.ts (used against both gateways): opens
// many WebSocket connections (`ws` client), then counts received events until told to stop.
// Talks to its parent over IPC: {opened}, {counted}.
import WebSocket from 'ws';
import { signUserToken } from '../../lib/tokens.js';

interface Job {
  url: string; // ws://host:port/api/v1/events/stream
  count: number;
  /** Each connection as a distinct user (`<userPrefix><i>`, JWTs signed with secret), or all as one app key. */
  userPrefix?: string;
  /** The first user's number (`<userPrefix><offset + i>`). */
  offset?: number;
  secret?: string;
  apiKey?: string;
  concurrency: number;
}

const job = JSON.parse(process.env.LOAD_JOB!) as Job;
const sockets: WebSocket[] = [];
let events = 0;
let lastEventAt = 0;
let failed = 0;

async function open(i: number): Promise<void> {
  const token = job.apiKey ?? (await signUserToken(job.secret!, `${job.userPrefix}${(job.offset ?? 0) + i}`, 3600));
  await new Promise<void>((resolve) => {
    const ws = new WebSocket(job.url, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false });
    ws.on('message', (data: Buffer) => {
      if (data[9] === 0x65 /* {"type":"event" */) {
        events += 1;
        lastEventAt = performance.timeOrigin + performance.now();
      } else resolve();
    });
    ws.on('error', () => {
      failed += 1;
      resolve();
    });
    sockets.push(ws);
  });
}

let next = 0;
await Promise.all(Array.from({ length: job.concurrency }, async () => {
  while (next < job.count) await open(next++);
}));
process.send!({ opened: sockets.length - failed, failed });
process.on('message', (message: { cmd: string }) => {
  if (message.cmd === 'count') process.send!({ counted: events, lastEventAt });
  if (message.cmd === 'reset') events = 0;
  if (message.cmd === 'stop') {
    for (const ws of sockets) ws.terminate();
    process.exit(0);
  }
});
