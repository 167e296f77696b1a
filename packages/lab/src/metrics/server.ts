/** The lab's CloudWatch endpoint in one call: the service on a loopback port, alarms evaluated on a timer. */
import http from "node:http";
import type { AddressInfo } from "node:net";
import {
  type CloudWatchClock,
  type CloudWatchService,
  type CloudWatchServiceOptions,
  createCloudWatchService,
} from "./cloudwatch-api.ts";
import type { MetricStore } from "./store.ts";

export interface CloudWatchServerOptions extends CloudWatchServiceOptions {
  /** 0 (default) for an ephemeral port. */
  port?: number;
  /** Loopback by default: nothing listens beyond 127.0.0.1 unless asked. */
  host?: string;
  /** How often alarms are evaluated (default 1000 ms; DescribeAlarms also evaluates on read). 0 disables. */
  evaluateEveryMs?: number;
}

export interface CloudWatchServer {
  /** e.g. http://127.0.0.1:4566 — the `endpoint` of a CloudWatchClient. */
  url: string;
  port: number;
  service: CloudWatchService;
  close(): Promise<void>;
}

export async function startCloudWatchServer(
  store: MetricStore,
  clock: CloudWatchClock = { now: () => Date.now() },
  options: CloudWatchServerOptions = {},
): Promise<CloudWatchServer> {
  const service = createCloudWatchService(store, clock, options);
  const server = http.createServer(service.handle);
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const every = options.evaluateEveryMs ?? 1000;
  const timer = every > 0 ? setInterval(() => service.evaluateAlarms(), every) : undefined;
  timer?.unref();
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}`,
    port,
    service,
    async close() {
      if (timer) clearInterval(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
