import type { Bus } from './bus.js';
import { MemoryBus } from './memory-bus.js';
import { NatsBus } from './nats-bus.js';

export interface OpenBusOptions {
  natsUrl?: string | undefined;
  name?: string;
  credsFile?: string | undefined;
  user?: string | undefined;
  password?: string | undefined;
  caFile?: string | undefined;
  alertStream?: string;
  /** Replicas of the alert stream: 3 on a 3-node cluster, so an alert survives losing a server. */
  alertReplicas?: number;
  /** Days alerts stay in the stream (VIGIL_ALERT_RETENTION_DAYS). */
  alertMaxAgeDays?: number;
}

/** NATS when a URL is given, else the in-process bus. */
export async function openBus(options: OpenBusOptions): Promise<Bus> {
  if (!options.natsUrl) return new MemoryBus();
  return NatsBus.connect({ ...options, url: options.natsUrl });
}
