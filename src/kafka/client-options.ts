/** Options shared by every @platformatic/kafka client processor creates. */
import type { ClientSettings } from "./protocol.ts";

export function baseClientOptions(settings: ClientSettings, role: string) {
  const bootstrapBrokers: string[] = [...settings.brokers];
  return {
    clientId: `${settings.clientId}-${role}`,
    bootstrapBrokers,
    strict: true,
    retries: 5,
    retryDelay: (_client: unknown, _operation: unknown, attempt: number) => Math.min(100 * 2 ** attempt, 5_000),
    connectTimeout: 5_000,
  };
}
