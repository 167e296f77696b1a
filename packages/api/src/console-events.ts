/**
 * GET /console/api/events[?experimentId=EXP…]: server-sent events from the engine's event bus, so the console
 * shows an experiment live without polling the FIS operations.
 *   event: experiment  data: the experiment as GetExperiment returns it (on connect and on every state change of
 *                            it, its actions or its report)
 *   event: metrics     data: per-second metrics of its targets (console-metrics.ts), every second until 30 s
 *                            after it ended
 *   event: log         data: new lines of its FIS experiment log
 * Without experimentId: one `experiment` event per state change of any experiment (the experiments list).
 *
 * Bounded: at most `maxStreams` open at once per engine (a console tab holds one or two; beyond, 429 and
 * nothing held), and a client that stops reading is dropped once `maxBufferedBytes` wait for it (EventSource
 * reconnects by itself; memory does not grow with a stuck reader).
 */
import { randomUUID } from "node:crypto";
import { closeSync, openSync, readSync, statSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { type Engine, TERMINAL_EXPERIMENT } from "@faultline/engine";
import type { MetricSource } from "@faultline/report";
import { experimentMetrics } from "./console-metrics.ts";
import { HttpError } from "./errors.ts";
import { renderError, toJson } from "./render.ts";

const TICK_MS = 1000;
const HEARTBEAT_MS = 15_000;
/** Metrics keep coming this long after the end (late datapoints, the post-experiment tail). */
const AFTER_END_MS = 30_000;
export const MAX_STREAMS = 32;
export const MAX_BUFFERED_BYTES = 1024 * 1024;

export interface StreamLimits {
  /** Event streams open at once per engine (default MAX_STREAMS). */
  maxStreams?: number;
  /** Bytes waiting for one slow client before it is dropped (default MAX_BUFFERED_BYTES). */
  maxBufferedBytes?: number;
}

/** Open streams per engine (one API per engine in practice; tests run several in one process). */
const open = new WeakMap<Engine, number>();

/** The stream's first answer: an error (unknown experiment, too many streams) ends it before it starts. */
function refusal(engine: Engine, id: string | null, limits: StreamLimits): unknown {
  const max = limits.maxStreams ?? MAX_STREAMS;
  if ((open.get(engine) ?? 0) >= max) {
    return new HttpError(
      429,
      "ThrottlingException",
      `Too many console event streams open (${max}): close a console tab, or retry later`,
    );
  }
  try {
    if (id !== null) engine.getExperiment(id);
  } catch (error) {
    return error;
  }
  return undefined;
}

export function streamEvents(
  engine: Engine,
  metrics: MetricSource | undefined,
  res: ServerResponse,
  query: URLSearchParams,
  limits: StreamLimits = {},
): void {
  const id = query.get("experimentId");
  const refused = refusal(engine, id, limits);
  if (refused !== undefined) {
    const out = renderError(refused, randomUUID());
    const retry = out.status === 429 ? { "retry-after": "5" } : {};
    res.writeHead(out.status, { ...out.headers, ...retry }).end(out.body);
    return;
  }
  open.set(engine, (open.get(engine) ?? 0) + 1);
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-store",
    "x-accel-buffering": "no",
  });
  const maxBuffered = limits.maxBufferedBytes ?? MAX_BUFFERED_BYTES;
  const write = (text: string) => {
    if (res.destroyed) return;
    // A client that does not read: drop it rather than buffer without end (the close below cleans up).
    if (res.writableLength > maxBuffered) res.destroy();
    else res.write(text);
  };
  const send = (event: string, data: unknown) => write(`event: ${event}\ndata: ${toJson(data)}\n\n`);
  const cleanups: Array<() => void> = [() => open.set(engine, (open.get(engine) ?? 1) - 1)];
  // The followed experiment's log lines go out before its state: a page that sees `completed` has the whole log.
  const log = id === null ? undefined : new LogTail(engine.logPath(id));
  const sendLog = () => {
    const lines = log?.read() ?? [];
    if (lines.length > 0) send("log", lines);
  };
  const onChange = (experimentId: string) => {
    if (id !== null && experimentId !== id) return;
    sendLog();
    try {
      send("experiment", engine.getExperiment(experimentId));
    } catch {
      // deleted meanwhile: nothing to show
    }
  };
  const onExperiment = (e: { detail: { "experiment-id": string } }) => onChange(e.detail["experiment-id"]);
  const onOther = (e: { experimentId: string }) => onChange(e.experimentId);
  engine.events.on("experiment", onExperiment);
  engine.events.on("action", onOther);
  engine.events.on("report", onOther);
  cleanups.push(() => {
    engine.events.off("experiment", onExperiment);
    engine.events.off("action", onOther);
    engine.events.off("report", onOther);
  });
  const heartbeat = setInterval(() => write(": keep-alive\n\n"), HEARTBEAT_MS);
  cleanups.push(() => clearInterval(heartbeat));
  if (id !== null) {
    onChange(id);
    cleanups.push(followExperiment(engine, metrics, id, send, sendLog));
  } else {
    write(": connected\n\n");
  }
  const close = () => {
    for (const c of cleanups.splice(0)) c();
  };
  // The response closes when the connection does (the page left, or the API is closing).
  res.on("close", close);
}

/** Ticks metrics and new log lines of one experiment; returns the stop. */
function followExperiment(
  engine: Engine,
  metrics: MetricSource | undefined,
  id: string,
  send: (event: string, data: unknown) => void,
  sendLog: () => void,
): () => void {
  let busy = false;
  let stopped = false;
  const tick = async () => {
    if (busy || stopped) return;
    busy = true;
    try {
      sendLog();
      const exp = engine.getExperiment(id);
      const ended = TERMINAL_EXPERIMENT.has(exp.state.status) ? exp.endTime?.getTime() : undefined;
      if (metrics && exp.experimentOptions.actionsMode !== "skip-all") {
        send("metrics", await experimentMetrics(engine, metrics, id, Date.now()));
      }
      if (ended !== undefined && Date.now() > ended + AFTER_END_MS) clearInterval(timer);
    } catch (error) {
      send("problem", { message: (error as Error).message });
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), TICK_MS);
  void tick();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

/** New complete lines of a growing file, parsed as JSON where they are. */
class LogTail {
  private offset = 0;
  constructor(private readonly path: string | undefined) {}
  read(): unknown[] {
    if (!this.path) return [];
    let size: number;
    try {
      size = statSync(this.path).size;
    } catch {
      return [];
    }
    if (size <= this.offset) return [];
    const fd = openSync(this.path, "r");
    try {
      const buf = Buffer.alloc(size - this.offset);
      readSync(fd, buf, 0, buf.length, this.offset);
      const text = buf.toString("utf8");
      const end = text.lastIndexOf("\n");
      if (end < 0) return [];
      this.offset += Buffer.byteLength(text.slice(0, end + 1));
      return text
        .slice(0, end)
        .split("\n")
        .map((line) => {
          try {
            return JSON.parse(line) as unknown;
          } catch {
            return line;
          }
        });
    } finally {
      closeSync(fd);
    }
  }
}
