/**
 * `faultline enable <function…> --bucket B [--prefix P] [--layer ARN]` and `faultline disable <function…>`:
 * attach or remove the faultline layer and its variables with GetFunctionConfiguration +
 * UpdateFunctionConfiguration (the plan is in enable-plan.ts). Functions are named, or chosen by --tag through
 * tag:GetResources. Each function is updated on its own; a refused one does not stop the others (exit 1).
 */
import {
  type FunctionConfiguration,
  GetFunctionConfigurationCommand,
  GetLayerVersionByArnCommand,
  type LambdaClient,
  ListLayerVersionsCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionUpdatedV2,
} from "@aws-sdk/client-lambda";
import { GetResourcesCommand } from "@aws-sdk/client-resource-groups-tagging-api";
import type { Command } from "commander";
import { unzipSync } from "fflate";
import type { CliCommand, CliIO } from "../command.ts";
import { CliError, UsageError } from "../errors.ts";
import { type AwsOptions, aws, awsOptions, lambdaClient, parseTag, taggingClient } from "./aws.ts";
import { type Plan, POLL_VARIABLES, planDisable, planEnable } from "./enable-plan.ts";

interface TargetOptions extends AwsOptions {
  tag?: string[];
  dryRun?: boolean;
  name: string;
  layer?: string;
}

interface EnableOptions extends TargetOptions {
  bucket: string;
  prefix: string;
  force?: boolean;
  slowPoll?: string;
  hotPoll?: string;
  maxWait?: string;
  markerInterval?: string;
  metrics?: boolean;
}

function targetOptions(command: Command): Command {
  return awsOptions(
    command
      .option(
        "--tag <key=value>",
        "also every function with this tag; repeat for more (all must match; tag:GetResources)",
        (value: string, previous: string[]) => [...previous, value],
        [] as string[],
      )
      .option("--name <layer>", "the faultline layer's name", "faultline")
      .option("--dry-run", "print the changes, change nothing"),
  );
}

export const enable: CliCommand = {
  name: "enable",
  register(program, io) {
    const command = program
      .command("enable")
      .description("Attach the faultline layer and its variables to functions (everything else is kept)")
      .argument("[function...]", "function names or ARNs")
      .requiredOption("--bucket <bucket>", "the bucket fault objects are written to")
      .option("--prefix <prefix>", "the key prefix fault objects are written under", "FisConfigs/")
      .option("--layer <arn>", "layer version ARN (default: the latest version of --name)")
      .option("--force", "replace another exec wrapper (AWS_LAMBDA_EXEC_WRAPPER) the function uses")
      .option("--slow-poll <seconds>", `sets ${POLL_VARIABLES.slowPoll} (extension default 60)`)
      .option("--hot-poll <seconds>", `sets ${POLL_VARIABLES.hotPoll} (extension default 5)`)
      .option("--max-wait <ms>", `sets ${POLL_VARIABLES.maxWait} (extension default 1000)`)
      .option(
        "--marker-interval <ms>",
        `sets ${POLL_VARIABLES.markerInterval} (extension default 1000; 0: no change marker, list poll only)`,
      )
      .option("--metrics", `sets ${POLL_VARIABLES.metrics}=all (FaultInjected EMF metrics, for reports)`);
    targetOptions(command).action(async (names: string[], o: EnableOptions) => {
      const lambda = lambdaClient(o);
      try {
        const layerArn = o.layer ?? (await latestLayer(lambda, o.name));
        const prefix = o.prefix.replace(/^\/+/, "");
        const settings = {
          layerArn,
          location: `arn:aws:s3:::${o.bucket}/${prefix === "" || prefix.endsWith("/") ? prefix : `${prefix}/`}`,
          variables: pollVariables(o),
          force: o.force ?? false,
        };
        const probe = layerProbe(lambda, (arn) => sameLayer(arn, layerArn));
        await apply(lambda, await targets(names, o), o, io, async (config) =>
          planEnable(config, settings, await probe(config)),
        );
      } finally {
        lambda.destroy();
      }
    });
  },
};

export const disable: CliCommand = {
  name: "disable",
  register(program, io) {
    const command = program
      .command("disable")
      .description("Remove the faultline layer and its variables from functions (everything else is kept)")
      .argument("[function...]", "function names or ARNs")
      .option("--layer <arn>", "also remove this layer (any version), whatever its name");
    targetOptions(command).action(async (names: string[], o: TargetOptions) => {
      const lambda = lambdaClient(o);
      try {
        const probe = layerProbe(
          lambda,
          (arn) => arn.split(":")[6] === o.name || (o.layer !== undefined && sameLayer(arn, o.layer)),
        );
        await apply(lambda, await targets(names, o), o, io, async (config) =>
          planDisable(config, o.name, o.layer, await probe(config)),
        );
      } finally {
        lambda.destroy();
      }
    });
  },
};

function pollVariables(o: EnableOptions): Record<string, string> {
  const vars: Record<string, string> = {};
  const int = (flag: string, value: string, min: number, max: number) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new UsageError(`${flag} ${value}: must be an integer from ${min} to ${max}`);
    return String(n);
  };
  if (o.slowPoll !== undefined) vars[POLL_VARIABLES.slowPoll] = int("--slow-poll", o.slowPoll, 1, 86400);
  if (o.hotPoll !== undefined) vars[POLL_VARIABLES.hotPoll] = int("--hot-poll", o.hotPoll, 1, 3600);
  if (o.maxWait !== undefined) vars[POLL_VARIABLES.maxWait] = int("--max-wait", o.maxWait, 0, 900000);
  if (o.markerInterval !== undefined) {
    const ms = int("--marker-interval", o.markerInterval, 0, 3_600_000);
    if (ms !== "0" && Number(ms) < 100)
      throw new UsageError(`--marker-interval ${ms}: must be 0 (off) or from 100 to 3600000`);
    vars[POLL_VARIABLES.markerInterval] = ms;
  }
  if (o.metrics) vars[POLL_VARIABLES.metrics] = "all";
  return vars;
}

async function latestLayer(lambda: LambdaClient, name: string): Promise<string> {
  const out = await aws("ListLayerVersions", () =>
    lambda.send(new ListLayerVersionsCommand({ LayerName: name })),
  );
  const latest = out.LayerVersions?.[0]?.LayerVersionArn;
  if (!latest)
    throw new UsageError(
      `no layer named ${name}: run \`faultline layer publish\` first, or pass --layer <arn>`,
    );
  return latest;
}

/** The named functions, then those carrying every --tag, each once. */
async function targets(names: string[], o: TargetOptions): Promise<string[]> {
  const all = [...names];
  if (o.tag && o.tag.length > 0) {
    const tagging = taggingClient(o);
    const filters = o.tag.map(parseTag).map(([Key, value]) => ({ Key, Values: [value] }));
    let token: string | undefined;
    try {
      do {
        const page = await aws("tag:GetResources", () =>
          tagging.send(
            new GetResourcesCommand({
              ResourceTypeFilters: ["lambda:function"],
              TagFilters: filters,
              PaginationToken: token,
            }),
          ),
        );
        all.push(
          ...(page.ResourceTagMappingList ?? []).flatMap((m) => (m.ResourceARN ? [m.ResourceARN] : [])),
        );
        token = page.PaginationToken || undefined;
      } while (token);
    } finally {
      tagging.destroy();
    }
  }
  if (all.length === 0)
    throw new UsageError("name at least one function, or select some with --tag key=value");
  const byName = new Map(all.map((f) => [f.split(":")[6] ?? f, f]));
  return [...byName.values()];
}

async function apply(
  lambda: LambdaClient,
  functions: string[],
  o: TargetOptions,
  io: CliIO,
  plan: (config: FunctionConfiguration) => Promise<Plan>,
): Promise<void> {
  let refused = 0;
  for (const fn of functions) {
    const p = await plan(await read(lambda, fn));
    if (p.refused) {
      refused++;
      io.stderr(`faultline: ${p.refused}\n`);
      continue;
    }
    if (!p.update) {
      io.stdout(`${p.functionName}: no change\n`);
      continue;
    }
    io.stdout(
      `${p.functionName}${o.dryRun ? " (dry run)" : ""}:\n${p.changes.map((c) => `  ${c}\n`).join("")}`,
    );
    if (o.dryRun) continue;
    await aws(`UpdateFunctionConfiguration ${p.functionName}`, () =>
      lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: fn, ...p.update })),
    );
    // The next update of the same function (or an invoke) must see this one applied.
    await aws(`waiting for ${p.functionName} to update`, () =>
      waitUntilFunctionUpdatedV2(
        { client: lambda, maxWaitTime: 300, minDelay: 1, maxDelay: 5 },
        { FunctionName: fn },
      ),
    );
  }
  if (refused > 0) throw new CliError(`${refused} function(s) left unchanged (see above)`);
}

function read(lambda: LambdaClient, fn: string) {
  return aws(`GetFunctionConfiguration ${fn}`, () =>
    lambda.send(new GetFunctionConfigurationCommand({ FunctionName: fn })),
  );
}

/**
 * Which of a function's layers carry faultline, by content (faultline/VERSION inside, as the engine checks):
 * GetLayerVersionByArn, then the zip. Each layer version is read once; one that cannot be read (in 10 s) counts as not
 * faultline's (it is then kept, never removed by guess).
 */
function layerProbe(
  lambda: LambdaClient,
  known: (arn: string) => boolean,
): (config: FunctionConfiguration) => Promise<(arn: string) => boolean> {
  const seen = new Map<string, Promise<boolean>>();
  const read = async (arn: string): Promise<boolean> => {
    try {
      const layer = await lambda.send(new GetLayerVersionByArnCommand({ Arn: arn }));
      const location = layer.Content?.Location;
      if (!location) return false;
      const res = await fetch(location, { signal: AbortSignal.timeout(10_000) });
      if (!res.ok) return false;
      const files = unzipSync(new Uint8Array(await res.arrayBuffer()), {
        filter: (f) => f.name === "faultline/VERSION",
      });
      return files["faultline/VERSION"] !== undefined;
    } catch {
      return false;
    }
  };
  return async (config) => {
    // Layers already known to be faultline's (by --name / --layer) are not downloaded.
    const arns = (config.Layers ?? []).flatMap((l) => (l.Arn && !known(l.Arn) ? [l.Arn] : []));
    const found = new Set<string>();
    for (const arn of arns) {
      let hit = seen.get(arn);
      if (!hit) {
        hit = read(arn);
        seen.set(arn, hit);
      }
      if (await hit) found.add(arn);
    }
    return (arn) => found.has(arn);
  };
}

/** The same layer, any version. */
const sameLayer = (a: string, b: string) => a.replace(/:\d+$/, "") === b.replace(/:\d+$/, "");
