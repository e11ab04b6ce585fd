// The real-time gateway: a uWebSockets.js server.
import type { Config } from '../lib/config.js';
import type { Logger } from '../lib/log.js';
import { loadNativeUws } from './native.js';

export interface GatewayHandle {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startGateway(config: Config, _databaseUrl: string, log: Logger, port = config.gatewayPort): Promise<GatewayHandle> {
  const uws = loadNativeUws();
  const app = uws.App();
  app.get('/healthz', (res) => {
    res.cork(() => res.writeHeader('content-type', 'application/json').end('{"status":"ok"}'));
  });
  const listenSocket = await new Promise<unknown>((resolve, reject) => {
    app.listen(config.host, port, (socket) => (socket ? resolve(socket) : reject(new Error(`port ${port} on ${config.host} is already in use`))));
  });
  const bound = uws.us_socket_local_port(listenSocket as never);
  log.debug({ port: bound }, 'gateway listening');
  let closed = false;
  return {
    url: `ws://${config.host}:${bound}`,
    port: bound,
    close: async () => {
      if (closed) return;
      closed = true;
      uws.us_listen_socket_close(listenSocket as never);
    },
  };
}
