/** A real pino logger writing into memory, so tests can read what an operator would see. */
import pino, { type Logger } from 'pino';

export function memoryLogger(level: pino.Level = 'info'): {
  logger: Logger;
  entries(): { level: number; msg: string; [k: string]: unknown }[];
} {
  const lines: string[] = [];
  const logger = pino({ level }, { write: (s: string) => void lines.push(s) });
  return { logger, entries: () => lines.map((l) => JSON.parse(l)) };
}
