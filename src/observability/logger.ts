/**
 * Structured logs through pino: JSON lines on stderr (readable, coloured lines when stderr is a terminal).
 * Usable from the main thread and from Workers; each gets its own instance writing synchronously to fd 2, so a
 * line written just before a Worker is stopped is not lost.
 */
import pino from "pino";
import pretty from "pino-pretty";

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

export type LogFields = Record<string, string | number | boolean | null | undefined>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

function wrap(instance: pino.Logger): Logger {
  return {
    debug: (message, fields) => instance.debug(fields ?? {}, message),
    info: (message, fields) => instance.info(fields ?? {}, message),
    warn: (message, fields) => instance.warn(fields ?? {}, message),
    error: (message, fields) => instance.error(fields ?? {}, message),
    child: (fields) => wrap(instance.child(fields)),
  };
}

export function createLogger(level: LogLevel, base: LogFields = {}): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: null,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  const destination = process.stderr.isTTY
    ? pretty({ destination: 2, sync: true, colorize: true, translateTime: "SYS:HH:MM:ss.l", ignore: "component" , messageFormat: "[{component}] {msg}" })
    : pino.destination({ dest: 2, sync: true });
  return wrap(pino(options, destination).child(base));
}
