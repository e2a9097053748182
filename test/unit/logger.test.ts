/** logSafeText: what a handler's error text may look like in a log line. */
import { expect, test } from "bun:test";
import { logSafeText } from "../../src/observability/logger.ts";

test("short plain text is kept as it is", () => {
  expect(logSafeText("Error: boom")).toBe("Error: boom");
  expect(logSafeText("")).toBe("");
  expect(logSafeText("x".repeat(256))).toBe("x".repeat(256));
});

test("longer text: the first max characters, then how many were left out", () => {
  expect(logSafeText("x".repeat(257))).toBe(`${"x".repeat(256)}… (1 more character)`);
  const payload = `Error: bad record ${JSON.stringify({ card: "4111111111111111", blob: "y".repeat(10_000) })}`;
  const line = logSafeText(payload);
  expect(line.startsWith(payload.slice(0, 256))).toBe(true);
  expect(line.endsWith(`… (${payload.length - 256} more characters)`)).toBe(true);
  expect(line.length).toBeLessThan(300);
  expect(logSafeText("abcdef", 3)).toBe("abc… (3 more characters)");
  expect(logSafeText("abcdef", 0)).toBe("… (6 more characters)");
});

test("line breaks become one space; other control and format characters are dropped", () => {
  expect(logSafeText("line one\nline two\r\n\r\nline three\tend")).toBe("line one line two line three end");
  expect(logSafeText('fake\n{"level":"info","msg":"forged"}')).not.toContain("\n");
  expect(logSafeText("red \u001b[31malert\u001b[0m")).toBe("red [31malert[0m");
  expect(logSafeText("nul\u0000bell\u0007del\u007fc1\u0085x")).toBe("nulbelldelc1 x");
  expect(logSafeText("a\u2028b\u2029c")).toBe("a b c");
  expect(logSafeText("admin\u202egnp.exe\u200b")).toBe("admingnp.exe");
  expect(logSafeText("x\u0000".repeat(300))).toBe(`${"x".repeat(128)}… (344 more characters)`);
});

test("never splits a surrogate pair; counts a shown emoji as one character (what is left out: in UTF-16 units)", () => {
  expect(logSafeText("😀😀😀", 2)).toBe("😀😀… (2 more characters)");
  expect(logSafeText("a😀", 1)).toBe("a… (2 more characters)");
  const cut = logSafeText(`${"😀".repeat(300)}`);
  expect(cut.startsWith("😀".repeat(256))).toBe(true);
  expect(cut).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
});

test("cost does not grow with the input (a 64 MiB message)", () => {
  const huge = "z".repeat(64 * 1024 * 1024);
  const started = performance.now();
  for (let i = 0; i < 1000; i++) logSafeText(huge);
  expect(performance.now() - started).toBeLessThan(500);
  expect(logSafeText(huge)).toEndWith(`… (${huge.length - 256} more characters)`);
});
