// How the hub reaches one client. The connection logic (connections.ts) sees only this interface,
// so a second transport — the long-poll of DESIGN §13 — can sit next to the WebSocket one
// (ws-transport.ts). Backpressure policy stays in the hub: a transport reports what happened to a
// frame and how much is queued, and the hub decides when a client is a slow consumer.

/** A frame as the hub writes it: JSON text, as a string or its UTF-8 bytes. */
export type Frame = string | Buffer;

/**
 * What became of one frame: taken ('sent'), queued behind earlier frames because the client reads
 * slower than we write ('backpressure'; see bufferedAmount), or refused because the transport's own
 * queue is full ('dropped').
 */
export type SendResult = 'sent' | 'backpressure' | 'dropped';

export interface Transport {
  /** Runs `write`; the frames it sends leave together (WebSocket: one corked write). */
  batch(write: () => void): void;
  /** Sends one frame; inside batch() it joins the batch's write. */
  send(frame: Frame): SendResult;
  /** Bytes sent but not yet taken by the client. When they drain, the gateway calls Hub.drain. */
  bufferedAmount(): number;
  /** A liveness probe (WebSocket: a ping frame). */
  ping(): void;
  /** Ends the connection with a close code and reason; the gateway then calls Hub.closed. */
  close(code: number, reason: string): void;
}
