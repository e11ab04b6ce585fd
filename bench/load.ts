// HTTP load for the benches, on undici.
// - openLoad: requests start at evenly spaced arrival times (open model), however the server keeps
//   up; each latency counts from the request's scheduled start, so a server that falls behind shows
//   it (no coordinated omission) and the arrivals never come in per-second bursts.
// - closedLoad: a fixed number of requests in flight at all times; its throughput is the maximum.
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';

export interface LoadRequest {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface LoadResult {
  requests: number;
  perSecond: number;
  p50: number;
  p99: number;
  max: number;
  /** answers outside 2xx, and transport errors */
  errors: number;
}

/** Keep-alive connections to one server, reused by every load run (as a warmed-up client would). */
export function loadClient(origin: string, connections = 64): Pool {
  return new Pool(origin, { connections });
}

/** `rate` requests per second for `seconds`, spread evenly; the pool's connections cap what is in flight. */
export async function openLoad(
  pool: Pool,
  { rate, seconds }: { rate: number; seconds: number },
  request: (i: number) => LoadRequest,
): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  const inFlight = new Set<Promise<void>>();
  const total = Math.round(rate * seconds);
  const interval = 1000 / rate;
  const start = performance.now() + 20;
  for (let i = 0; i < total; ) {
    const due = start + i * interval;
    const wait = due - performance.now();
    if (wait > 0) {
      await sleep(Math.min(wait, 1));
      continue;
    }
    const sent = send(pool, request(i)).then(
      (ok) => {
        if (!ok) errors += 1;
        latencies.push(performance.now() - due);
      },
      () => {
        errors += 1;
      },
    );
    inFlight.add(sent);
    void sent.finally(() => inFlight.delete(sent));
    i += 1;
  }
  await Promise.all(inFlight);
  return summarize(latencies, errors, (performance.now() - start) / 1000);
}

/** `concurrency` requests in flight for `seconds`, each sent when the previous one answered. */
export async function closedLoad(
  pool: Pool,
  { concurrency, seconds }: { concurrency: number; seconds: number },
  request: (i: number) => LoadRequest,
): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  let n = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < end) {
      const sent = performance.now();
      const ok = await send(pool, request(n++)).catch(() => false);
      if (!ok) errors += 1;
      latencies.push(performance.now() - sent);
    }
  }));
  return summarize(latencies, errors, (performance.now() - start) / 1000);
}

async function send(pool: Pool, { method, path, headers, body }: LoadRequest): Promise<boolean> {
  const response = await pool.request({ method, path, headers, body });
  await response.body.dump();
  return response.statusCode >= 200 && response.statusCode < 300;
}

function summarize(latencies: number[], errors: number, seconds: number): LoadResult {
  const sorted = latencies.sort((a, b) => a - b);
  const at = (q: number) => round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN);
  return { requests: sorted.length, perSecond: sorted.length / seconds, p50: at(0.5), p99: at(0.99), max: round(sorted.at(-1) ?? NaN), errors };
}

const round = (ms: number) => Math.round(ms * 10) / 10;
