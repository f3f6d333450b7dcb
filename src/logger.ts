import { pino, type Logger } from 'pino';
import { lineScrubber } from './http/log-redaction.js';

/**
 * The process's logger. `secrets` are values no line may show (the admin
 * key): every line is scrubbed of them, and of anything shaped like an
 * assertion or an API key, just before it is written.
 */
export function createLogger(level: string, secrets: readonly string[] = []): Logger {
  return pino({
    level,
    base: { service: 'kiosque' },
    redact: ['req.headers.authorization', 'req.headers.cookie'],
    hooks: { streamWrite: lineScrubber(secrets) },
  });
}
