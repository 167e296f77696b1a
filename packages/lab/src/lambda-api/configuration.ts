/** FunctionConfiguration as Lambda returns it, built from a FunctionSpec. Code size and hash are computed once. */
import { createHash } from "node:crypto";
import { readdirSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import type { FunctionSpec } from "../contract.ts";
import { logGroupName } from "../logs.ts";
import { controlState, type LambdaApiContext } from "./context.ts";

interface CodeInfo {
  size: number;
  sha256: string;
}

const codeInfoCache = new Map<string, CodeInfo>();

/** Size and a cheap fingerprint (paths, sizes, mtimes — not contents) of a directory or file. */
export function codeInfo(path: string): CodeInfo {
  const cached = codeInfoCache.get(path);
  if (cached) return cached;
  const hash = createHash("sha256");
  let size = 0;
  try {
    const st = statSync(path);
    if (st.isDirectory()) {
      for (const rel of (readdirSync(path, { recursive: true }) as string[]).sort()) {
        const f = statSync(join(path, rel));
        if (!f.isFile()) continue;
        size += f.size;
        hash.update(`${rel}\0${f.size}\0${f.mtimeMs}\n`);
      }
    } else {
      size = st.size;
      hash.update(`${st.size}\0${st.mtimeMs}`);
    }
  } catch {
    // Code that vanished after the lab started: report what we have.
  }
  const info = { size, sha256: hash.digest("base64") };
  codeInfoCache.set(path, info);
  return info;
}

/** Lambda formats LastModified as 2026-11-26T15:25:08.000+0000. */
export function lambdaTimestamp(date: Date): string {
  return date.toISOString().replace("Z", "+0000");
}

/** The ARN of the `index`th layer of `spec`: the one it was attached by, else version 1 named after the file. */
export function layerArnAt(spec: FunctionSpec, index: number): string {
  return spec.layerArns?.[index] ?? layerArn(spec, spec.layers[index] ?? "");
}

export function layerArn(spec: FunctionSpec, layerPath: string): string {
  const name =
    basename(layerPath)
      .replace(/\.zip$/, "")
      .replace(/[^a-zA-Z0-9_-]/g, "-")
      .slice(0, 64) || "layer";
  return `arn:aws:lambda:${spec.region}:${spec.accountId}:layer:${name}:1`;
}

/** The configuration of the function named `name` as GetFunctionConfiguration reports it now. */
export function configurationOf(ctx: LambdaApiContext, name: string): Record<string, unknown> {
  const spec = ctx.pools.get(name)!.spec;
  const update = controlState(ctx).updates.get(name);
  return functionConfiguration(spec, update?.lastModified ?? ctx.startedAt, update?.revisionId);
}

export function functionConfiguration(
  spec: FunctionSpec,
  lastModified: Date,
  revisionId?: string,
): Record<string, unknown> {
  const code = codeInfo(spec.codeDir);
  return {
    FunctionName: spec.name,
    FunctionArn: spec.arn,
    Runtime: spec.runtime,
    Role: `arn:aws:iam::${spec.accountId}:role/faultline-lab`,
    Handler: spec.handler,
    CodeSize: code.size,
    Description: "",
    Timeout: spec.timeoutSeconds,
    MemorySize: spec.memorySizeMb,
    LastModified: lambdaTimestamp(lastModified),
    CodeSha256: code.sha256,
    Version: "$LATEST",
    Environment: { Variables: spec.environment },
    TracingConfig: { Mode: "PassThrough" },
    RevisionId: revisionId ?? code.sha256.slice(0, 36),
    Layers: spec.layers.map((path, i) => ({ Arn: layerArnAt(spec, i), CodeSize: codeInfo(path).size })),
    State: "Active",
    LastUpdateStatus: "Successful",
    PackageType: "Zip",
    Architectures: [process.arch === "arm64" ? "arm64" : "x86_64"],
    EphemeralStorage: { Size: 512 },
    SnapStart: { ApplyOn: "None", OptimizationStatus: "Off" },
    LoggingConfig: { LogFormat: "Text", LogGroup: logGroupName(spec.name) },
  };
}
