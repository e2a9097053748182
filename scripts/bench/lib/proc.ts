/**
 * CPU and memory of a contender's whole process tree, read from /proc: the contender may be a shell pipeline (two
 * kcat processes), a wrapper script around a JVM, or one multi-threaded binary, and all of it is its cost.
 */
import { readdirSync, readFileSync } from "node:fs";

const CLK_TCK = 100; // USER_HZ is 100 on every Linux the benchmark runs on (getconf CLK_TCK)
const PAGE = 4096;

interface Stat {
  pid: number;
  ppid: number;
  /** utime+stime+cutime+cstime in ticks: the process's own CPU plus that of its children it has reaped */
  ticks: number;
  rssPages: number;
}

function readStat(pid: number): Stat | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // the command name (field 2) may hold spaces and parentheses: parse after the last ")"
    const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
    // f[0] is field 3 (state): ppid 4, utime 14, stime 15, cutime 16, cstime 17, rss 24
    return { pid, ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]), rssPages: Number(f[21]) };
  } catch {
    return null;
  }
}

export interface TreeSample {
  /** user+sys CPU seconds of the live tree, including children it has already reaped */
  cpuSeconds: number;
  /** sum of the resident sets of the live tree */
  rssBytes: number;
  processes: number;
}

/** One sample of the tree rooted at `root`, or null when the root is gone. */
export function sampleTree(root: number): TreeSample | null {
  const stats = new Map<number, Stat>();
  for (const name of readdirSync("/proc")) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const s = readStat(pid);
    if (s) stats.set(pid, s);
  }
  if (!stats.has(root)) return null;
  const children = new Map<number, number[]>();
  for (const s of stats.values()) {
    const list = children.get(s.ppid);
    if (list) list.push(s.pid);
    else children.set(s.ppid, [s.pid]);
  }
  let ticks = 0;
  let pages = 0;
  let processes = 0;
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    const s = stats.get(pid);
    if (!s) continue;
    ticks += s.ticks;
    pages += s.rssPages;
    processes++;
    stack.push(...(children.get(pid) ?? []));
  }
  return { cpuSeconds: ticks / CLK_TCK, rssBytes: pages * PAGE, processes };
}
