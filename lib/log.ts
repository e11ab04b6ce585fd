import { pino, type Logger } from 'pino';

export type { Logger };

/** One logger per process; children carry requestId / jobId / connectionId. */
export function makeLogger(name: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    name,
    level,
    redact: { paths: ['req.headers.authorization', 'authorization', 'apiKey', 'token'], censor: '[redacted]' },
  });
}
