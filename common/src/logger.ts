// One structured logger for every component: JSON lines (pino), the component and object named.
import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

export function createLogger(component: string, options: LoggerOptions = {}): Logger {
  return pino({
    level: process.env.LOG_LEVEL ?? 'info',
    base: { component },
    ...options,
  });
}
