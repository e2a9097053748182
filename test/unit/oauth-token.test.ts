/** OAUTHBEARER token providers (kafka/oauth-token.ts): token files read again when they change, commands refreshed before exp. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AuthenticationError, NetworkError } from "@platformatic/kafka";
import { classify } from "../../src/kafka/errors.ts";
import {
  checkBrokerAnswer,
  jwtExpiry,
  OAuthTokenError,
  type OAuthTokenProvider,
  oauthTokenProvider,
  refreshTime,
} from "../../src/kafka/oauth-token.ts";

/** An unsecured JWT (alg none, empty signature) as Kafka's test validator accepts it; exp in epoch seconds. */
function jwt(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "none" })}.${part(claims)}.`;
}

const START = Math.floor(Date.now() / 1000) * 1000;
/** A token that expires `lifetimeS` seconds after START. */
const tokenFor = (lifetimeS: number, sub = "processor") => jwt({ sub, iat: START / 1000, exp: START / 1000 + lifetimeS });

/** A clock the test moves. */
function fakeClock() {
  let now = START;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

async function failure(provider: OAuthTokenProvider): Promise<Error> {
  try {
    await provider();
  } catch (error) {
    expect(error).toBeInstanceOf(OAuthTokenError);
    return error as Error;
  }
  throw new Error("the provider gave a token");
}

let dir = "";
const f = (name: string) => join(dir, name);
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "processor-oauth-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("jwtExpiry and refreshTime", () => {
  test("exp of a JWT in epoch ms; anything else is one line without the token", () => {
    expect(jwtExpiry(tokenFor(20), "t")).toBe(START + 20_000);
    for (const bad of ["opaque-token-value", "a.b.c", `${jwt({ sub: "x" }).slice(0, -1)}sig.extra`, "e30.W10.", "e30.bm90IGpzb24."]) {
      expect(() => jwtExpiry(bad, "the token")).toThrow("the token is not a JWT");
    }
    expect(() => jwtExpiry(jwt({ sub: "x" }), "the token")).toThrow("the token has no numeric exp claim");
    expect(() => jwtExpiry(jwt({ sub: "x", exp: "soon" }), "the token")).toThrow("no numeric exp claim");
  });

  test("refresh at 80% of the lifetime or a minute before exp, whichever is earlier, never before half of it", () => {
    expect(refreshTime(0, 3_600_000)).toBe(2_880_000); // 1 h: at 48 min
    expect(refreshTime(0, 120_000)).toBe(60_000); // 2 min: a minute before
    expect(refreshTime(0, 20_000)).toBe(10_000); // 20 s: at half
    expect(refreshTime(1_000, 301_000)).toBe(241_000); // 5 min: 80% = 4 min, a minute before = 4 min
  });
});

describe("token file", () => {
  test("gives the file's token (trimmed) and reads it again when it changes", async () => {
    writeFileSync(f("token"), `${tokenFor(100, "first")}\n`);
    const fresh: number[] = [];
    const provider = oauthTokenProvider({ kind: "file", path: f("token") }, { now: fakeClock().now, onNewToken: (exp) => fresh.push(exp) });
    expect(await provider()).toBe(tokenFor(100, "first"));
    expect(await provider()).toBe(tokenFor(100, "first"));
    expect(fresh).toEqual([START + 100_000]); // not read again while unchanged: one stat per call
    writeFileSync(f("token"), tokenFor(200, "second-and-longer"));
    expect(await provider()).toBe(tokenFor(200, "second-and-longer"));
    expect(fresh).toEqual([START + 100_000, START + 200_000]);
  });

  test("a file replaced by rename (how Kubernetes updates mounted secrets) is read again", async () => {
    writeFileSync(f("renamed"), tokenFor(100, "old"));
    const provider = oauthTokenProvider({ kind: "file", path: f("renamed") }, { now: fakeClock().now });
    expect(await provider()).toBe(tokenFor(100, "old"));
    writeFileSync(f("renamed.next"), tokenFor(100, "new")); // same size as the old one
    renameSync(f("renamed.next"), f("renamed"));
    expect(await provider()).toBe(tokenFor(100, "new"));
  });

  test("the token expires while the file stays the same: one line naming the file and when", async () => {
    writeFileSync(f("expiring"), tokenFor(20));
    const clock = fakeClock();
    const provider = oauthTokenProvider({ kind: "file", path: f("expiring") }, { now: clock.now });
    expect(await provider()).toBe(tokenFor(20));
    clock.advance(21_000);
    const error = await failure(provider);
    expect(error.message).toBe(
      `the OAUTHBEARER token in --sasl-oauth-token-file ${f("expiring")} expired at ${new Date(START + 20_000).toISOString()}`,
    );
    writeFileSync(f("expiring"), tokenFor(60)); // the sidecar caught up
    expect(await provider()).toBe(tokenFor(60));
  });

  test("not a JWT, expired, empty, missing: one line each, never the token", async () => {
    const clock = fakeClock();
    const cases: [string, string, string][] = [
      ["opaque", "opaque-secret-token-1234", "is not a JWT"],
      ["no-exp", jwt({ sub: "x" }), "has no numeric exp claim"],
      ["expired", tokenFor(-30), "expired at"],
      ["empty", "\n", "is empty"],
    ];
    for (const [name, contents, expected] of cases) {
      writeFileSync(f(name), contents);
      const error = await failure(oauthTokenProvider({ kind: "file", path: f(name) }, { now: clock.now, rereadDelayMs: 1 }));
      expect(error.message).toStartWith(`the OAUTHBEARER token in --sasl-oauth-token-file ${f(name)} `);
      expect(error.message).toContain(expected);
      if (contents.trim() !== "") expect(error.message).not.toContain(contents.trim());
    }
    const missing = await failure(oauthTokenProvider({ kind: "file", path: f("nope") }, { now: clock.now }));
    expect(missing.message).toBe(`cannot read --sasl-oauth-token-file ${f("nope")} (ENOENT)`);
  });

  test("a file caught half written is read once more a moment later", async () => {
    writeFileSync(f("slow-writer"), "");
    const provider = oauthTokenProvider({ kind: "file", path: f("slow-writer") }, { now: fakeClock().now, rereadDelayMs: 150 });
    setTimeout(() => writeFileSync(f("slow-writer"), tokenFor(100)), 30);
    expect(await provider()).toBe(tokenFor(100));
  });
});

describe("token command", () => {
  /** A command printing the token in `file`, counting its runs in `file.runs`. */
  const printing = (file: string) => `echo run >> '${file}.runs'; cat '${file}'`;
  const runs = (file: string) => readFileSync(`${file}.runs`, "utf8").split("\n").filter(Boolean).length;

  test("runs once, keeps the token until its refresh time, then runs again", async () => {
    writeFileSync(f("cmd-token"), `${tokenFor(20, "one")}\n`);
    const clock = fakeClock();
    const fresh: number[] = [];
    const provider = oauthTokenProvider(
      { kind: "command", command: printing(f("cmd-token")) },
      { now: clock.now, onNewToken: (exp) => fresh.push(exp) },
    );
    expect(await provider()).toBe(tokenFor(20, "one"));
    clock.advance(9_000);
    expect(await provider()).toBe(tokenFor(20, "one"));
    expect(runs(f("cmd-token"))).toBe(1);
    writeFileSync(f("cmd-token"), tokenFor(40, "two"));
    clock.advance(1_000); // 10 s of 20: refresh (a minute before exp would be long gone, so at half)
    expect(await provider()).toBe(tokenFor(40, "two"));
    expect(runs(f("cmd-token"))).toBe(2);
    expect(fresh).toEqual([START + 20_000, START + 40_000]);
  });

  test("connections asking at the same moment share one run", async () => {
    writeFileSync(f("shared"), tokenFor(100));
    const provider = oauthTokenProvider({ kind: "command", command: `sleep 0.2; ${printing(f("shared"))}` }, { now: fakeClock().now });
    const tokens = await Promise.all([provider(), provider(), provider(), provider()]);
    expect(new Set(tokens)).toEqual(new Set([tokenFor(100)]));
    expect(runs(f("shared"))).toBe(1);
  });

  test("a failing, silent, slow or wrong command: one line, without the token or the command's arguments", async () => {
    const clock = fakeClock();
    const secret = "client-secret-8c1f";
    writeFileSync(f("refuse.sh"), 'echo "first line" >&2; echo "token service said no to $1" >&2; exit 3\n');
    const cases: [string, string][] = [
      [`sh '${f("refuse.sh")}' ${secret}`, "--sasl-oauth-token-command failed (exit code 3): token service said no to <hidden>"],
      [
        `sh '${f("refuse.sh")}' --client-secret='${secret}'`,
        "--sasl-oauth-token-command failed (exit code 3): token service said no to <hidden>=<hidden>",
      ],
      [`no-such-token-tool --secret ${secret}`, "--sasl-oauth-token-command failed (exit code 127): "],
      ["true", "--sasl-oauth-token-command printed nothing on stdout (it must print the token)"],
      ["sleep 5", "--sasl-oauth-token-command did not finish within 0.3 s"],
      [`echo opaque-${secret}`, "the OAUTHBEARER token printed by --sasl-oauth-token-command is not a JWT"],
      [
        `echo '${tokenFor(-5)}'`,
        `the OAUTHBEARER token printed by --sasl-oauth-token-command expired at ${new Date(START - 5_000).toISOString()}`,
      ],
      [`echo '${jwt({ sub: "x" })}'`, "the OAUTHBEARER token printed by --sasl-oauth-token-command has no numeric exp claim"],
    ];
    for (const [command, expected] of cases) {
      const error = await failure(oauthTokenProvider({ kind: "command", command }, { now: clock.now, commandTimeoutMs: 300 }));
      expect(error.message).toStartWith(expected);
      expect(error.message).not.toContain(secret);
      expect(error.message).not.toContain("\n");
    }
  });

  test("a failed refresh keeps the current token while it is valid, and is tried again on the next call", async () => {
    writeFileSync(f("flaky"), tokenFor(20));
    const clock = fakeClock();
    const problems: string[] = [];
    writeFileSync(f("flaky.sh"), 'test -e "$1.down" && { echo "token service down" >&2; exit 1; }; cat "$1"\n');
    const command = `sh '${f("flaky.sh")}' '${f("flaky")}'`;
    const provider = oauthTokenProvider({ kind: "command", command }, { now: clock.now, onRefreshFailure: (m) => problems.push(m) });
    expect(await provider()).toBe(tokenFor(20));
    writeFileSync(f("flaky.down"), "");
    clock.advance(11_000);
    expect(await provider()).toBe(tokenFor(20)); // 9 s left
    expect(problems).toEqual(["--sasl-oauth-token-command failed (exit code 1): token service down"]);
    clock.advance(5_000); // 4 s left: too little to go on with
    expect((await failure(provider)).message).toContain("token service down");
    rmSync(f("flaky.down"));
    writeFileSync(f("flaky"), tokenFor(60)); // back up: the next call runs it again
    expect(await provider()).toBe(tokenFor(60));
  });
});

describe("the broker's answer and the error line", () => {
  test("an OAUTHBEARER error answer fails the authentication; an empty one passes", () => {
    const results: (Error | null)[] = [];
    checkBrokerAnswer(Buffer.alloc(0), (error) => results.push(error));
    checkBrokerAnswer(Buffer.from('{"status":"invalid_token"}'), (error) => results.push(error));
    checkBrokerAnswer(Buffer.from('{"status":"insufficient_scope","scope":"kafka"}'), (error) => results.push(error));
    expect(results[0]).toBeNull();
    expect(results[1]).toBeInstanceOf(OAuthTokenError);
    expect(results[1]?.message).toBe("the broker rejected the OAUTHBEARER token (invalid_token): is it for this cluster, and not expired?");
    expect(results[2]?.message).toContain("(insufficient_scope, scope kafka)");
  });

  test("a token problem inside the client's error chain is the fatal line", () => {
    const problem = new OAuthTokenError("the OAUTHBEARER token in --sasl-oauth-token-file /t expired at 2026-01-01T00:00:00.000Z");
    const provider = new AuthenticationError("The SASL/OAUTHBEARER token provider threw an error.", { cause: problem });
    const failed = classify(new NetworkError("Connection to 127.0.0.1:29093 failed.", { cause: provider }));
    expect(failed).toEqual({ kind: "auth", message: `SASL authentication failed: ${problem.message}`, retriable: false });
    const rejected = new AuthenticationError("SASL authentication failed.", { cause: new OAuthTokenError("the broker rejected it") });
    expect(classify(rejected).message).toBe("SASL authentication failed: the broker rejected it");
  });
});
