/** The lab's CloudWatch endpoint in one call: the service on a loopback port, alarms evaluated on a timer. */
import type { AddressInfo } from "node:net";
import { allowList, createGuardedServer } from "../http-guard.ts";
import {
  type CloudWatchClock,
  type CloudWatchService,
  type CloudWatchServiceOptions,
  createCloudWatchService,
} from "./cloudwatch-api.ts";
import { CloudWatchApiError } from "./errors.ts";
import { protocolOf, render } from "./protocols.ts";
import type { MetricStore } from "./store.ts";

export interface CloudWatchServerOptions extends CloudWatchServiceOptions {
  /** 0 (default) for an ephemeral port. */
  port?: number;
  /** Loopback by default: nothing listens beyond 127.0.0.1 unless asked. */
  host?: string;
  /** How often alarms are evaluated (default 1000 ms; DescribeAlarms also evaluates on read). 0 disables. */
  evaluateEveryMs?: number;
  /** Host names accepted besides loopback ones and `host` (see http-guard.ts). */
  allowedHosts?: readonly string[];
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
  const host = options.host ?? "127.0.0.1";
  const server = createGuardedServer({
    name: "cloudwatch",
    allowedHosts: allowList(host, options.allowedHosts),
    handle: service.handle,
    refuse: (req, res, refusal) =>
      render(res, protocolOf(req), "", new CloudWatchApiError("AccessDenied", 403, refusal.message)),
    fail: (req, res, error) =>
      render(res, protocolOf(req), "", new CloudWatchApiError("InternalFailure", 500, String(error))),
  });
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
