// The live connection to the gateway. Authenticates with Sec-WebSocket-Protocol (browsers cannot
// set headers), remembers the last seq it saw and resumes from it (?after=<seq>) after a drop,
// reconnects with capped, jittered backoff, and polls the REST feed while the gateway is unreachable.
//
// states: connecting -> live -> reconnecting -> polling (gateway unreachable: REST every pollMs)

export const PROTOCOL = 'oriva.v1';

export class LiveConnection {
  /**
   * @param {object} options
   * @param {string} options.url          ws(s)://host:port/api/v1/events/stream
   * @param {string} options.token        the user's JWT
   * @param {(message: object) => void} options.onMessage
   * @param {(state: string) => void} options.onState
   * @param {() => Promise<void>} options.resync   reload the REST feed (fresh start, gap, polling)
   * @param {number} [options.pollMs]
   */
  constructor({ url, token, onMessage, onState, resync, pollMs = 5000 }) {
    Object.assign(this, { url, token, onMessage, onState, resync, pollMs });
    this.lastSeq = null;
    this.attempt = 0;
    this.socket = null;
    this.retryTimer = null;
    this.pollTimer = null;
    this.stopped = false;
    this.state = 'idle';
    this.onOnline = () => this.reconnectNow();
    this.onVisible = () => {
      if (document.visibilityState === 'visible' && this.state !== 'live') this.reconnectNow();
    };
  }

  start() {
    window.addEventListener('online', this.onOnline);
    document.addEventListener('visibilitychange', this.onVisible);
    this.open();
  }

  stop() {
    this.stopped = true;
    window.removeEventListener('online', this.onOnline);
    document.removeEventListener('visibilitychange', this.onVisible);
    clearTimeout(this.retryTimer);
    this.stopPolling();
    if (this.socket) {
      const socket = this.socket;
      this.socket = null;
      socket.close(1000, 'signed out');
    }
  }

  setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.onState(state);
  }

  streamUrl() {
    const url = new URL(this.url);
    if (this.lastSeq !== null) url.searchParams.set('after', String(this.lastSeq));
    return url.href;
  }

  open() {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    this.setState(this.attempt === 0 ? 'connecting' : this.pollTimer ? 'polling' : 'reconnecting');
    let socket;
    try {
      socket = new WebSocket(this.streamUrl(), [PROTOCOL, `bearer.${this.token}`]);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.addEventListener('open', () => {
      if (this.socket !== socket) return;
      this.attempt = 0;
      this.stopPolling();
      this.setState('live');
      // Without a seq to resume from, the REST feed is the starting point; events from now on
      // arrive here. With one, the gateway replays what we missed.
      if (this.lastSeq === null) this.resync().catch(() => {});
    });
    socket.addEventListener('message', (event) => {
      if (this.socket !== socket) return;
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (!message || typeof message !== 'object') return;
      if (typeof message.seq === 'number' || (typeof message.seq === 'string' && /^\d+$/.test(message.seq))) {
        const seq = Number(message.seq);
        if (this.lastSeq === null || seq > this.lastSeq) this.lastSeq = seq;
      }
      if (message.type === 'gap') {
        // the gateway cannot replay from our seq: start over from the REST feed
        this.resync().catch(() => {});
        return;
      }
      this.onMessage(message);
    });
    socket.addEventListener('close', () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.scheduleReconnect();
    });
  }

  scheduleReconnect() {
    if (this.stopped) return;
    this.attempt += 1;
    if (this.attempt >= 2) this.startPolling(); // the quick retry failed too: the gateway is unreachable
    this.setState(this.pollTimer ? 'polling' : 'reconnecting');
    const base = Math.min(10_000, 250 * 2 ** (this.attempt - 1));
    this.retryTimer = setTimeout(() => this.open(), base / 2 + Math.random() * (base / 2));
  }

  reconnectNow() {
    if (this.stopped || this.state === 'live' || this.socket) return;
    clearTimeout(this.retryTimer);
    this.open();
  }

  startPolling() {
    if (this.pollTimer || this.stopped) return;
    const poll = async () => {
      await this.resync().catch(() => {});
      if (this.pollTimer) this.pollTimer = setTimeout(poll, this.pollMs);
    };
    this.pollTimer = setTimeout(poll, 0);
  }

  stopPolling() {
    clearTimeout(this.pollTimer);
    this.pollTimer = null;
  }
}
