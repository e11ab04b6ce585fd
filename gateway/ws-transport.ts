// The uWebSockets.js WebSocket as a Transport (transport.ts): the only place the hub's writes,
// pings and closes touch a uWS socket. The uWS handlers that create it are in gateway.ts.
import type { WebSocket } from 'uWebSockets.js';
import type { Frame, SendResult, Transport } from './transport.js';

/** uWS WebSocket.send's return value, by number. */
const SEND_RESULTS: readonly SendResult[] = ['backpressure', 'sent', 'dropped'];

export class WsTransport implements Transport {
  constructor(private readonly ws: WebSocket<unknown>) {}

  batch(write: () => void): void {
    this.ws.cork(write);
  }

  send(frame: Frame): SendResult {
    return SEND_RESULTS[this.ws.send(frame, false, false)]!;
  }

  bufferedAmount(): number {
    return this.ws.getBufferedAmount();
  }

  ping(): void {
    this.ws.ping();
  }

  close(code: number, reason: string): void {
    this.ws.end(code, reason);
  }
}
