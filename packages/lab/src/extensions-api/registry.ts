/**
 * The Extensions API (2020-01-01), served on the Runtime API's host:port. Each extension's lifecycle is an
 * explicit table; an illegal move answers 403 Extension.InvalidExtensionState (RIE's type and message).
 */
import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";
import { ApiError } from "../environment/errors.ts";
import { accepted, header, type Route, readBody, renderJson } from "../runtime-api/http.ts";
import type { DispatchedInvocation } from "../runtime-api/server.ts";

export type ExtensionEventType = "INVOKE" | "SHUTDOWN";
export type ShutdownReason = "spindown" | "timeout" | "failure";

export type ExtensionState =
  /** Registered, still initialising: its first /event/next ends its init. */
  | "registered"
  /** Parked in /event/next. */
  | "ready"
  /** Holding an event (INVOKE or SHUTDOWN) it has not finished with. */
  | "running"
  | "init-error"
  | "exit-error";

type ExtensionMove = "next" | "deliver" | "init-error" | "exit-error";

const moves: Record<ExtensionState, Partial<Record<ExtensionMove, ExtensionState>>> = {
  registered: { next: "ready", "init-error": "init-error", "exit-error": "exit-error" },
  ready: { deliver: "running", "exit-error": "exit-error" },
  running: { next: "ready", "exit-error": "exit-error" },
  "init-error": {},
  "exit-error": {},
};

const stateNames: Record<ExtensionState, string> = {
  registered: "Registered",
  ready: "Ready",
  running: "Running",
  "init-error": "InitError",
  "exit-error": "ExitError",
};

export interface FunctionMetadata {
  functionName: string;
  functionVersion: string;
  handler: string;
  /** Returned only to extensions that send `Lambda-Extension-Accept-Feature: accountId` (as Lambda does). */
  accountId?: string;
}

export interface ExtensionInfo {
  id: string;
  name: string;
  events: ExtensionEventType[];
  state: ExtensionState;
}

export interface ExtensionErrorReport {
  extension: string;
  errorType: string;
  payload: Buffer;
}

interface Agent extends ExtensionInfo {
  parked?: ServerResponse;
  queue: object[];
}

export class ExtensionsApi {
  private readonly agents = new Map<string, Agent>();
  private registrationOpen = true;
  private readonly events = new EventEmitter();

  constructor(private readonly metadata: FunctionMetadata) {}

  readonly routes: Route[] = [
    { method: "POST", path: /^\/2020-01-01\/extension\/register$/, handler: (q, s) => this.register(q, s) },
    { method: "GET", path: /^\/2020-01-01\/extension\/event\/next$/, handler: (q, s) => this.next(q, s) },
    {
      method: "POST",
      path: /^\/2020-01-01\/extension\/init\/error$/,
      handler: (q, s) => this.error(q, s, "init-error"),
    },
    {
      method: "POST",
      path: /^\/2020-01-01\/extension\/exit\/error$/,
      handler: (q, s) => this.error(q, s, "exit-error"),
    },
  ];

  list(): ExtensionInfo[] {
    return [...this.agents.values()].map(({ id, name, events, state }) => ({
      id,
      name,
      events: [...events],
      state,
    }));
  }

  /** Init's extension phase is over: later registrations get 403 Extension.RegistrationClosed. */
  closeRegistration(): void {
    this.registrationOpen = false;
  }

  onRegister(listener: (ext: ExtensionInfo) => void): void {
    this.events.on("register", listener);
  }

  onError(listener: (kind: "init-error" | "exit-error", report: ExtensionErrorReport) => void): void {
    this.events.on("error-report", listener);
  }

  /** Fires on every /event/next (an extension finished its init or its event). */
  onReady(listener: () => void): void {
    this.events.on("ready", listener);
  }

  /** True when every registered extension is parked in /event/next (or has errored out). */
  allReady(): boolean {
    for (const a of this.agents.values()) if (a.state === "registered" || a.state === "running") return false;
    return true;
  }

  /** Resolves once every registered extension is parked in /event/next. */
  whenAllReady(): Promise<void> {
    if (this.allReady()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (!this.allReady()) return;
        this.events.off("ready", check);
        resolve();
      };
      this.events.on("ready", check);
    });
  }

  /** An extension's process is gone: it no longer counts (Lambda treats that as its exit). */
  forget(name: string): void {
    for (const [id, a] of this.agents) {
      if (a.name !== name) continue;
      a.parked?.destroy();
      this.agents.delete(id);
    }
    this.events.emit("ready");
  }

  dispatchInvoke(inv: DispatchedInvocation): void {
    this.deliver("INVOKE", {
      eventType: "INVOKE",
      deadlineMs: inv.deadlineMs,
      requestId: inv.input.requestId,
      invokedFunctionArn: inv.input.invokedFunctionArn,
      tracing: { type: "X-Amzn-Trace-Id", value: inv.input.traceId },
    });
  }

  dispatchShutdown(reason: ShutdownReason, deadlineMs: number): void {
    this.deliver("SHUTDOWN", { eventType: "SHUTDOWN", shutdownReason: reason, deadlineMs });
  }

  subscribers(event: ExtensionEventType): number {
    let n = 0;
    for (const a of this.agents.values()) if (a.events.includes(event)) n++;
    return n;
  }

  /** Drops every extension (the environment is being re-initialised). */
  reset(): void {
    for (const a of this.agents.values()) a.parked?.destroy();
    this.agents.clear();
    this.registrationOpen = true;
  }

  // ---- one handler per endpoint ----

  private async register(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const name = header(req, "lambda-extension-name");
    const { body } = await readBody(req, 64 * 1024);
    if (!name) throw new ApiError(403, "Extension.InvalidExtensionName", "Empty extension name");
    let events: unknown;
    try {
      events = (JSON.parse(body.toString("utf8")) as { events?: unknown }).events ?? [];
    } catch (err) {
      throw new ApiError(403, "InvalidRequestFormat", (err as Error).message);
    }
    if (!Array.isArray(events)) throw new ApiError(403, "InvalidRequestFormat", "events must be an array");
    for (const e of events) {
      if (e !== "INVOKE" && e !== "SHUTDOWN") {
        throw new ApiError(
          403,
          "Extension.InvalidEventType",
          `${String(e)}: invalid event for external extension`,
        );
      }
    }
    if (!this.registrationOpen) {
      throw new ApiError(403, "Extension.RegistrationClosed", "Extension registration closed already");
    }
    for (const a of this.agents.values()) {
      if (a.name === name)
        throw new ApiError(
          403,
          "Extension.InvalidExtensionState",
          "Extension with this name already registered",
        );
    }
    const agent: Agent = {
      id: randomUUID(),
      name,
      events: events as ExtensionEventType[],
      state: "registered",
      queue: [],
    };
    this.agents.set(agent.id, agent);
    const { accountId, ...metadata } = this.metadata;
    const features = (header(req, "lambda-extension-accept-feature") ?? "").split(",").map((f) => f.trim());
    const reply = features.includes("accountId") && accountId ? { ...metadata, accountId } : metadata;
    renderJson(res, 200, reply, { "Lambda-Extension-Identifier": agent.id });
    this.events.emit("register", { id: agent.id, name, events: [...agent.events], state: agent.state });
  }

  private next(req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    const agent = this.identify(req);
    this.move(agent, "next");
    agent.parked = res;
    res.on("close", () => {
      if (agent.parked === res) agent.parked = undefined;
    });
    this.flush(agent);
    this.events.emit("ready");
  }

  private async error(
    req: IncomingMessage,
    res: ServerResponse,
    kind: "init-error" | "exit-error",
  ): Promise<void> {
    const agent = this.identify(req);
    const errorType = header(req, "lambda-extension-function-error-type");
    const { body } = await readBody(req, 1024 * 1024);
    if (!errorType) {
      throw new ApiError(403, "Extension.MissingHeader", "Lambda-Extension-Function-Error-Type not found");
    }
    this.move(agent, kind);
    accepted(res);
    this.events.emit("error-report", kind, { extension: agent.name, errorType, payload: body });
    this.events.emit("ready");
  }

  // ---- machinery ----

  private identify(req: IncomingMessage): Agent {
    const id = header(req, "lambda-extension-identifier");
    if (!id)
      throw new ApiError(
        403,
        "Extension.MissingExtensionIdentifier",
        "Missing Lambda-Extension-Identifier header",
      );
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) {
      throw new ApiError(403, "Extension.InvalidExtensionIdentifier", "Invalid Lambda-Extension-Identifier");
    }
    const agent = this.agents.get(id);
    if (!agent) throw new ApiError(403, "Extension.UnknownExtensionIdentifier", `Unknown extension ${id}`);
    return agent;
  }

  private move(agent: Agent, move: ExtensionMove): void {
    const to = moves[agent.state][move];
    if (to === undefined) {
      throw new ApiError(
        403,
        "Extension.InvalidExtensionState",
        `State transition from ${stateNames[agent.state]} to ${move} failed for extension ${agent.id}. Error: State transition is not allowed`,
      );
    }
    agent.state = to;
  }

  private deliver(type: ExtensionEventType, event: object): void {
    for (const agent of this.agents.values()) {
      if (!agent.events.includes(type)) continue;
      agent.queue.push(event);
      this.flush(agent);
    }
  }

  private flush(agent: Agent): void {
    if (agent.state !== "ready" || !agent.parked) return;
    const event = agent.queue.shift();
    if (!event) return;
    const res = agent.parked;
    agent.parked = undefined;
    this.move(agent, "deliver");
    renderJson(res, 200, event, { "Lambda-Extension-Event-Identifier": randomUUID() });
  }
}
