/** The operational logger (not the records): JSON to stderr, built by the caller, never at import. */
import pino, { type Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function createLogger(level: LogLevel, destination: pino.DestinationStream | NodeJS.WritableStream = process.stderr): Logger {
  return pino(
    {
      level,
      base: { name: 'driftguard' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Objects under review never go to the log; errors keep their message and stack only.
      serializers: { err: pino.stdSerializers.err },
    },
    destination as pino.DestinationStream,
  );
}
