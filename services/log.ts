import pino, { type Logger } from 'pino';

/** JSON logs on stdout; human-readable only when stdout is a terminal (or YOKE_LOG_PRETTY=1). */
export function createLogger(level = process.env.YOKE_LOG_LEVEL ?? 'info'): Logger {
  const pretty = process.env.YOKE_LOG_PRETTY === '1' || (process.env.YOKE_LOG_PRETTY !== '0' && process.stdout.isTTY);
  if (!pretty) return pino({ level, base: { pid: process.pid } });
  return pino({ level, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } });
}

export type { Logger };
