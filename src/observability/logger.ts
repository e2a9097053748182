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
  /** Whether a line at `level` would be written: lets a hot path skip building its fields. */
  enabled(level: Exclude<LogLevel, "silent">): boolean;
}

function wrap(instance: pino.Logger): Logger {
  return {
    debug: (message, fields) => instance.debug(fields ?? {}, message),
    info: (message, fields) => instance.info(fields ?? {}, message),
    warn: (message, fields) => instance.warn(fields ?? {}, message),
    error: (message, fields) => instance.error(fields ?? {}, message),
    child: (fields) => wrap(instance.child(fields)),
    enabled: (level) => instance.isLevelEnabled(level),
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
    ? pretty({
        destination: 2,
        sync: true,
        colorize: true,
        translateTime: "SYS:HH:MM:ss.l",
        ignore: "component",
        messageFormat: "[{component}] {msg}",
      })
    : pino.destination({ dest: 2, sync: true });
  return wrap(pino(options, destination).child(base));
}

/** Line breaks and tabs (also Unicode's line and paragraph separators): each run becomes one space. */
const LINE_BREAKS = /[\r\n\t\v\f\u0085\u2028\u2029]+/g;
/** Other control and format characters (escape sequences, NUL, bidirectional overrides, zero-width marks): dropped. */
const CONTROLS = /[\p{Cc}\p{Cf}]/gu;

/**
 * Text that came from outside (a handler's error message, which may quote the record's payload) made fit for one
 * log field: line breaks become spaces, other control characters are dropped (no forged log lines, no terminal
 * escapes), and only the first `max` characters (code points, counted before control characters are dropped) are
 * kept, followed by `… (N more characters)`, N being the `length` (UTF-16 units) of what was left out: counting
 * code points there would cost time in proportion to the text. A surrogate pair is never split. The cost depends on
 * `max`, not on the length of `text`. The full text belongs where it is kept on purpose (the dead-letter record's
 * header), not in the log.
 */
export function logSafeText(text: string, max = 256): string {
  const limit = Math.max(0, Math.floor(max));
  let end = 0;
  for (let shown = 0; end < text.length && shown < limit; shown++) {
    const code = text.charCodeAt(end);
    const pair = code >= 0xd800 && code <= 0xdbff && end + 1 < text.length && (text.charCodeAt(end + 1) & 0xfc00) === 0xdc00;
    end += pair ? 2 : 1;
  }
  const shown = text.slice(0, end).replace(LINE_BREAKS, " ").replace(CONTROLS, "");
  const rest = text.length - end;
  return rest === 0 ? shown : `${shown}… (${rest} more character${rest === 1 ? "" : "s"})`;
}
