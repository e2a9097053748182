/**
 * The standard process_* figures, read cheaply at scrape time. prom-client's collectDefaultMetrics is not used:
 * under Bun its heap statistics walk the whole JavaScript heap (tens of milliseconds of main-thread stall per
 * scrape) and its event-loop-lag probe is not supported.
 */
import { readdirSync } from "node:fs";
import { Counter, Gauge, type Registry } from "prom-client";

export function registerProcessMetrics(registry: Registry): void {
  const startSeconds = Math.round(Date.now() / 1000 - process.uptime());
  new Counter({
    name: "process_cpu_seconds_total",
    help: "User and system CPU time of the whole process (every thread), in seconds.",
    labelNames: ["mode"],
    registers: [registry],
    collect() {
      const { user, system } = process.cpuUsage();
      this.reset();
      this.inc({ mode: "user" }, user / 1e6);
      this.inc({ mode: "system" }, system / 1e6);
    },
  });
  new Gauge({
    name: "process_resident_memory_bytes",
    help: "Resident memory of the whole process, in bytes.",
    registers: [registry],
    collect() {
      this.set(process.memoryUsage.rss());
    },
  });
  new Gauge({
    name: "process_start_time_seconds",
    help: "When the process started, in seconds since the Unix epoch.",
    registers: [registry],
  }).set(startSeconds);
  new Gauge({
    name: "process_open_fds",
    help: "Open file descriptors.",
    registers: [registry],
    collect() {
      try {
        this.set(readdirSync("/proc/self/fd").length);
      } catch {
        // not Linux: leave the gauge unset
      }
    },
  });
}
