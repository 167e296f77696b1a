/**
 * `faultline experiments start|get|list|stop|preview`: run experiments through the FIS API.
 * `start --watch` follows progress until the experiment ends; `stop --all` is the kill switch from the outside.
 */
import {
  type Experiment,
  type FisClient,
  GetExperimentCommand,
  ListExperimentResolvedTargetsCommand,
  ListExperimentsCommand,
  type ResolvedTarget,
  StartExperimentCommand,
  StopExperimentCommand,
} from "@aws-sdk/client-fis";
import type { CliCommand, CliIO } from "../command.ts";
import { group } from "../command.ts";
import { UsageError } from "../errors.ts";
import { type ClientOptions, call, clientOptions, connect, durationMs, table, toJson } from "./fis-client.ts";

const TERMINAL = new Set(["completed", "stopped", "failed", "cancelled"]);
const ACTIVE = new Set(["pending", "initiating", "running", "stopping"]);

/** One screenful: the experiment's state, then each action's state and time left. */
export function renderExperiment(x: Experiment, now = Date.now()): string {
  const lines = [`${x.id}  ${x.state?.status}  ${x.state?.reason ?? ""}`.trimEnd()];
  lines.push(`  template ${x.experimentTemplateId}  started ${x.startTime?.toISOString() ?? "-"}`);
  const rows = [["ACTION", "ID", "STATUS", "LEFT", "REASON"]];
  for (const [name, a] of Object.entries(x.actions ?? {})) {
    const total = durationMs(a.parameters?.duration);
    let left = "-";
    if (a.state?.status === "running" && a.startTime && total !== undefined) {
      left = `${Math.max(0, Math.ceil((a.startTime.getTime() + total - now) / 1000))}s`;
    }
    rows.push([name, a.actionId ?? "", a.state?.status ?? "", left, a.state?.reason ?? ""]);
  }
  lines.push(
    ...table(rows)
      .trimEnd()
      .split("\n")
      .map((l) => `  ${l}`),
  );
  const stops = (x.stopConditions ?? []).filter((s) => s.source !== "none");
  lines.push(`  stop conditions: ${stops.map((s) => s.value).join(", ") || "none"}`);
  return `${lines.join("\n")}\n`;
}

export function renderTargets(targets: ResolvedTarget[]): string {
  const rows = [["TARGET", "FUNCTION", "READY", "EXTENSION", "PROBLEMS"]];
  for (const t of targets) {
    const info = t.targetInformation ?? {};
    rows.push([
      t.targetName ?? "",
      info.functionName ?? info.arn ?? "",
      info.ready ?? "",
      // Which extension the target runs: faultline 0.1.0, faultline (unknown), aws-fis-extension-x86_64:9…
      // (why a version is unknown is in `experiments get --json`).
      info.extension ?? "-",
      info.problems ?? "",
    ]);
  }
  return table(rows);
}

async function resolvedTargets(client: FisClient, experimentId: string): Promise<ResolvedTarget[]> {
  const all: ResolvedTarget[] = [];
  let nextToken: string | undefined;
  do {
    const page = await call(client, (c) =>
      c.send(new ListExperimentResolvedTargetsCommand({ experimentId, nextToken })),
    );
    all.push(...(page.resolvedTargets ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return all;
}

/** Polls until the experiment ends, printing a fresh rendering whenever something changed. */
async function watch(
  client: FisClient,
  id: string,
  io: CliIO,
  intervalMs: number,
  json: boolean,
): Promise<Experiment> {
  let last = "";
  for (;;) {
    const x = (await call(client, (c) => c.send(new GetExperimentCommand({ id })))).experiment!;
    const view = json ? "" : renderExperiment(x);
    const key = JSON.stringify([x.state, Object.values(x.actions ?? {}).map((a) => a.state)]);
    if (!json && (key !== last || process.stdout.isTTY)) io.stdout(`${view}\n`);
    last = key;
    if (TERMINAL.has(x.state?.status ?? "")) return x;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

function parseTags(values: string[] = []): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf("=");
    if (eq < 1) throw new UsageError(`--tag ${v}: expected key=value`);
    tags[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return tags;
}

/**
 * client-fis 3.523.0 predates StartExperiment's `experimentOptions.actionsMode` and drops it when
 * serialising, so it is added to the JSON body before signing.
 */
function withActionsMode(client: FisClient, actionsMode: "skip-all"): void {
  client.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { body?: unknown; path?: string; method?: string };
      if (request.method === "POST" && request.path === "/experiments" && typeof request.body === "string") {
        request.body = JSON.stringify({ ...JSON.parse(request.body), experimentOptions: { actionsMode } });
      }
      return next(args);
    },
    { step: "build", priority: "high", name: "faultlineActionsMode" },
  );
}

type StartOptions = ClientOptions & { watch?: boolean; preview?: boolean; tag?: string[]; interval: string };

async function start(templateId: string, o: StartOptions, io: CliIO): Promise<void> {
  const client = connect(o);
  if (o.preview) withActionsMode(client, "skip-all");
  const out = await call(client, (c) =>
    c.send(
      new StartExperimentCommand({
        experimentTemplateId: templateId,
        tags: parseTags(o.tag),
      }),
    ),
  );
  const x = out.experiment!;
  if (!o.watch && !o.preview) {
    io.stdout(o.json ? toJson(x) : `${x.id}  ${x.state?.status}\n`);
    // Started while the safety lever is engaged, the experiment comes back already cancelled: say so, exit 3.
    // (client-fis 3.523.0's ExperimentStatus predates "cancelled".)
    const status: string | undefined = x.state?.status;
    if (status === "cancelled" || status === "failed") {
      io.stderr(`${x.id} ${status}: ${x.state?.reason}\n`);
      process.exitCode = 3;
    }
    return;
  }
  const final = await watch(client, x.id!, io, Number(o.interval), Boolean(o.json));
  const targets = await resolvedTargets(client, x.id!);
  if (o.json) io.stdout(toJson({ experiment: final, resolvedTargets: targets }));
  else if (o.preview) io.stdout(renderTargets(targets));
  if (final.state?.status !== "completed") process.exitCode = 3;
  const notReady = targets.filter((t) => t.targetInformation?.ready === "false").length;
  if (o.preview && notReady > 0 && !o.json)
    io.stderr(`${notReady} target(s) not ready: faults would not be injected there\n`);
}

export const experiments: CliCommand = {
  name: "experiments",
  register(program, io) {
    const g = group(program, "experiments", "Run and watch FIS experiments");
    const startCommand = (name: string, description: string, preview: boolean) =>
      clientOptions(g.command(`${name} <templateId>`).description(description))
        .option("--tag <key=value...>", "experiment tags")
        .option("--interval <ms>", "watch poll interval", "1000")
        .action((id: string, o: StartOptions) =>
          start(id, { ...o, ...(preview ? { preview: true } : {}) }, io),
        );
    startCommand("start", "Start an experiment from a template", false)
      .option("-w, --watch", "follow progress until the experiment ends")
      .option(
        "--preview",
        "target preview (actionsMode skip-all): resolve and check targets, inject nothing",
      );
    startCommand("preview", "Resolve a template's targets and check their readiness; inject nothing", true);
    clientOptions(g.command("get <id>").description("Show an experiment")).action(
      async (id: string, o: ClientOptions) => {
        const client = connect(o);
        const x = (await call(client, (c) => c.send(new GetExperimentCommand({ id })))).experiment!;
        io.stdout(o.json ? toJson(x) : renderExperiment(x));
      },
    );
    clientOptions(g.command("list").description("List experiments")).action(async (o: ClientOptions) => {
      const client = connect(o);
      const all = [];
      let nextToken: string | undefined;
      do {
        const page = await call(client, (c) => c.send(new ListExperimentsCommand({ nextToken })));
        all.push(...(page.experiments ?? []));
        nextToken = page.nextToken;
      } while (nextToken);
      if (o.json) return io.stdout(toJson(all));
      io.stdout(
        table([
          ["ID", "STATUS", "TEMPLATE", "CREATED"],
          ...all.map((x) => [
            x.id ?? "",
            x.state?.status ?? "",
            x.experimentTemplateId ?? "",
            x.creationTime?.toISOString() ?? "",
          ]),
        ]),
      );
    });
    clientOptions(g.command("stop [id]").description("Stop an experiment (its faults are removed)"))
      .option("--all", "stop every active experiment (the kill switch)")
      .action(async (id: string | undefined, o: ClientOptions & { all?: boolean }) => {
        const client = connect(o);
        if (o.all === Boolean(id))
          throw new UsageError("give an experiment id or --all, not both or neither");
        let ids = id ? [id] : [];
        if (o.all) {
          const page = await call(client, (c) => c.send(new ListExperimentsCommand({ maxResults: 100 })));
          ids = (page.experiments ?? []).filter((x) => ACTIVE.has(x.state?.status ?? "")).map((x) => x.id!);
        }
        const stopped = [];
        for (const x of ids)
          stopped.push((await call(client, (c) => c.send(new StopExperimentCommand({ id: x })))).experiment);
        if (o.json) return io.stdout(toJson(stopped));
        io.stdout(
          stopped.length === 0
            ? "no active experiments\n"
            : stopped.map((x) => `${x?.id}  ${x?.state?.status}\n`).join(""),
        );
      });
  },
};
