import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** One logger per process; children carry requestId / jobId / connectionId. Writes to stdout unless given a destination. */
export function makeLogger(name: string, level = process.env.LOG_LEVEL ?? 'info', destination?: DestinationStream): Logger {
  const options = {
    name,
    level,
    redact: { paths: ['req.headers.authorization', 'authorization', 'apiKey', 'token'], censor: '[redacted]' },
  };
  return destination ? pino(options, destination) : pino(options);
}
