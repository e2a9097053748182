import { expect, test } from "bun:test";
import { startHeartbeat, watchHeartbeat } from "../../src/threads/stall-watchdog.ts";

test("no stall while the heartbeat ticks; a stall is reported once it stops for the timeout", async () => {
  const heartbeat = startHeartbeat();
  const stalls: number[] = [];
  const stopWatching = watchHeartbeat(heartbeat.beats, 700, (ms) => stalls.push(ms));
  await Bun.sleep(1500);
  expect(stalls).toEqual([]);
  heartbeat.stop();
  await Bun.sleep(1500);
  expect(stalls.length).toBe(1);
  expect(stalls[0]).toBeGreaterThanOrEqual(700);
  stopWatching();
});
