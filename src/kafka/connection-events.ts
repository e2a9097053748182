/** Broker connections come and go (restarts, leader moves): say so in the log, since the client retries quietly. */
import type { Logger } from "../observability/logger.ts";

interface BrokerEvent {
  broker?: { host?: string; port?: number };
}

interface EventSource {
  on(
    event: "client:broker:disconnect" | "client:broker:failed" | "client:broker:connect",
    listener: (payload: BrokerEvent) => void,
  ): unknown;
}

/** Returns a function to call before closing the client on purpose, so its disconnects are not reported. */
export function reportBrokerConnections(
  client: EventSource,
  log: Logger,
  onChange: (connected: boolean) => void = () => undefined,
): () => void {
  let lost = 0;
  let closing = false;
  const name = (payload: BrokerEvent) => `${payload.broker?.host ?? "?"}:${payload.broker?.port ?? "?"}`;
  client.on("client:broker:disconnect", (payload) => {
    if (closing) return;
    lost++;
    onChange(false);
    log.warn("lost the connection to a broker; retrying with backoff", { broker: name(payload) });
  });
  client.on("client:broker:failed", (payload) => {
    if (closing) return;
    onChange(false);
    log.warn("cannot connect to a broker; retrying with backoff", { broker: name(payload) });
  });
  client.on("client:broker:connect", (payload) => {
    onChange(true);
    if (lost > 0) log.info("reconnected to a broker", { broker: name(payload) });
  });
  return () => {
    closing = true;
  };
}
