// The live feed (DESIGN §13): one subscription to the gateway that survives what networks do. It
// streams over WebSocket, resumes from the last seq it saw after any disconnect (reconnecting with
// backoff and jitter), reports a `gap` so the caller refetches, refreshes its token in band before
// it expires, and falls back to long-polling (GET /api/v1/events/poll) when the WebSocket cannot
// open — going back to the WebSocket as soon as it opens again. Events are delivered in seq order,
// each once, whichever transport carried them.

/** An event as the gateway sends it (the stream's `event` frame). */
export interface LiveEvent {
  type: 'event';
  seq: number;
  event_id: string;
  app_id: string;
  user_id: string | null;
  event_category: string;
  event_type: string;
  entity_type: string;
  entity_id: string;
  event_data: Record<string, unknown>;
  timestamp: string;
}

/** The resume point was older than what can be replayed: refetch over REST, then it continues from resume_seq. */
export interface LiveGap {
  type: 'gap';
  after: number;
  resume_seq: number;
  reason: string;
}

/** live: over the WebSocket; polling: over long-polls that answer; reconnecting: neither reaches the gateway right now. */
export type LiveStatus = 'connecting' | 'live' | 'polling' | 'reconnecting' | 'closed';

/** The WebSocket constructor: the global one in browsers (and Node 22+), the `ws` package's on Node 20. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocket;

export interface SubscribeOptions {
  /** The gateway's base URL: ws(s)://host:port or http(s)://host:port. */
  url: string;
  /** A user JWT or an app's API key; called again for each (re)connection and before a JWT expires. */
  getToken: () => string | Promise<string>;
  /** Resume after this seq (the last one the caller has); null or absent: from now. */
  after?: number | null;
  onEvent: (event: LiveEvent) => void;
  onCounts?: (unread: number) => void;
  onGap?: (gap: LiveGap) => void;
  /** Any other frame the gateway sends (e.g. preferences.updated). */
  onMessage?: (message: { type: string } & Record<string, unknown>) => void;
  onStatus?: (status: LiveStatus) => void;
  WebSocket?: WebSocketConstructor;
  fetch?: typeof fetch;
  /** Reconnect backoff: from minMs doubling to maxMs, with ±25% jitter. */
  minDelayMs?: number;
  maxDelayMs?: number;
  /** Fall back to long-polling when the WebSocket has not opened for this long (default 3 s). */
  fallbackAfterMs?: number;
  /** While polling, try the WebSocket again this often (default 30 s). */
  probeEveryMs?: number;
  /** A poll's wait (default 25 s, at most 30). */
  pollWaitSeconds?: number;
}

export interface Subscription {
  close(): void;
  status(): LiveStatus;
  /** The last seq delivered (or the stream's position): where a new subscription would resume. */
  lastSeq(): number | null;
}

/** Seconds since the epoch when a JWT expires, or null (an API key, or not a JWT). */
export function tokenExpiry(token: string): number | null {
  const part = token.split('.')[1];
  if (!part || token.startsWith('oriva_sk_')) return null;
  try {
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '='));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp : null;
  } catch {
    return null;
  }
}

const httpBase = (url: string) => url.replace(/^ws/, 'http').replace(/\/+$/, '');
const wsBase = (url: string) => url.replace(/^http/, 'ws').replace(/\/+$/, '');

export function subscribe(options: SubscribeOptions): Subscription {
  const WS = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (!WS) throw new Error('No WebSocket: pass options.WebSocket (on Node 20, the `ws` package)');
  const doFetch = options.fetch ?? fetch;
  const minDelay = options.minDelayMs ?? 500;
  const maxDelay = options.maxDelayMs ?? 30_000;
  const fallbackAfter = options.fallbackAfterMs ?? 3000;
  const probeEvery = options.probeEveryMs ?? 30_000;
  const pollWait = Math.min(30, options.pollWaitSeconds ?? 25);

  let last: number | null = options.after ?? null;
  let state: LiveStatus = 'connecting';
  let closed = false;
  let socket: WebSocket | null = null;
  let attempts = 0;
  let unopenedSince: number | null = null;
  let polling = false;
  let pollAbort: AbortController | null = null;
  let probes: ReturnType<typeof setInterval> | null = null;
  /** One socket at a time: set from the moment one is being opened until it closes. */
  let opening = false;
  let timers: ReturnType<typeof setTimeout>[] = [];

  const setStatus = (next: LiveStatus) => {
    if (state === next) return;
    state = next;
    options.onStatus?.(next);
  };
  const later = (ms: number, fn: () => void) => {
    const timer = setTimeout(() => {
      timers = timers.filter((t) => t !== timer);
      fn();
    }, ms);
    timers.push(timer);
  };
  const backoff = () => {
    const base = Math.min(maxDelay, minDelay * 2 ** Math.min(attempts, 16));
    return Math.round(base * (0.75 + Math.random() * 0.5));
  };

  /** One frame from either transport; events at or below the last seq were delivered already. */
  const handle = (message: { type: string; seq?: number; unread?: number } & Record<string, unknown>) => {
    if (message.type === 'event') {
      const seq = message.seq!;
      if (last !== null && seq <= last) return;
      last = seq;
      options.onEvent(message as unknown as LiveEvent);
    } else if (message.type === 'ready') {
      last = Math.max(last ?? 0, message.seq ?? 0);
    } else if (message.type === 'counts') {
      options.onCounts?.(message.unread ?? 0);
    } else if (message.type === 'gap') {
      const gap = message as unknown as LiveGap;
      last = Math.max(last ?? 0, gap.resume_seq);
      options.onGap?.(gap);
    } else {
      options.onMessage?.(message);
    }
  };

  const scheduleRefresh = (token: string, ws: WebSocket) => {
    const exp = tokenExpiry(token);
    if (exp === null) return;
    const inMs = Math.max(1000, exp * 1000 - Date.now() - Math.min(30_000, (exp * 1000 - Date.now()) / 3));
    later(inMs, () => {
      if (closed || socket !== ws) return;
      void Promise.resolve(options.getToken()).then((fresh) => {
        if (closed || socket !== ws) return;
        ws.send(JSON.stringify({ type: 'auth', token: fresh }));
        scheduleRefresh(fresh, ws);
      });
    });
  };

  const openSocket = async () => {
    if (closed || opening || socket) return;
    opening = true;
    let token: string;
    try {
      token = await options.getToken();
    } finally {
      opening = false;
    }
    if (closed || socket) return;
    const query = last !== null ? `?after=${last}` : '';
    const ws = new WS(`${wsBase(options.url)}/api/v1/events/stream${query}`, ['oriva.v1', `bearer.${token}`]);
    socket = ws;
    let ready = false;
    unopenedSince ??= Date.now();
    ws.onmessage = (ev: MessageEvent) => {
      if (socket !== ws) return;
      const message = JSON.parse(String(ev.data)) as { type: string; seq?: number };
      if (message.type === 'ready' && !ready) {
        ready = true;
        attempts = 0;
        unopenedSince = null;
        if (polling) stopPolling();
        setStatus('live');
        scheduleRefresh(token, ws);
      }
      handle(message);
    };
    ws.onclose = () => {
      if (socket !== ws) return;
      socket = null;
      // while polling, the probes (startPolling) try the WebSocket again
      if (closed || polling) return;
      attempts += 1;
      if (!ready && unopenedSince !== null && Date.now() - unopenedSince >= fallbackAfter - 1) {
        startPolling();
        return;
      }
      setStatus('reconnecting');
      later(ready ? Math.min(minDelay, backoff()) : backoff(), () => void openSocket());
    };
    ws.onerror = () => {
      // onclose follows
    };
  };

  const stopPolling = () => {
    polling = false;
    if (probes) clearInterval(probes);
    probes = null;
    pollAbort?.abort();
    pollAbort = null;
  };

  const startPolling = () => {
    if (polling || closed) return;
    polling = true;
    // 'polling' once a poll has answered: without a resume point, the first one (wait=0) learns the
    // stream's position, so nothing committed from then on can be missed
    probes = setInterval(() => void openSocket(), probeEvery);
    void pollLoop();
  };

  const pollLoop = async () => {
    let failures = 0;
    while (polling && !closed) {
      const abort = new AbortController();
      pollAbort = abort;
      try {
        const token = await options.getToken();
        const query = last !== null ? `after=${last}&wait=${pollWait}` : 'wait=0';
        const res = await doFetch(`${httpBase(options.url)}/api/v1/events/poll?${query}`, {
          headers: { authorization: `Bearer ${token}` },
          signal: abort.signal,
        });
        if (!polling) return;
        if (res.status === 429) throw new Error('too many polls');
        if (!res.ok) throw new Error(`poll answered ${res.status}`);
        const body = (await res.json()) as { messages: ({ type: string } & Record<string, unknown>)[]; next_after: number };
        if (!polling) return;
        setStatus('polling');
        for (const message of body.messages) handle(message);
        last = Math.max(last ?? 0, body.next_after);
        failures = 0;
      } catch {
        if (!polling || closed) return;
        // neither transport reaches the gateway right now: the caller may refetch over REST meanwhile
        setStatus('reconnecting');
        failures += 1;
        await new Promise((r) => later(Math.min(maxDelay, minDelay * 2 ** Math.min(failures, 16)), () => r(null)));
      }
    }
  };

  void openSocket();
  later(fallbackAfter, () => {
    if (!closed && state !== 'live' && !polling && unopenedSince !== null) {
      socket?.close();
      socket = null;
      startPolling();
    }
  });

  return {
    close: () => {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers = [];
      stopPolling();
      socket?.close();
      socket = null;
      setStatus('closed');
    },
    status: () => state,
    lastSeq: () => last,
  };
}
