import {
  type FunctionConfiguration,
  GetFunctionCommand,
  type LambdaClient,
  ListFunctionsCommand,
  ListTagsCommand,
} from "@aws-sdk/client-lambda";
import {
  GetResourcesCommand,
  type ResourceGroupsTaggingAPIClient,
} from "@aws-sdk/client-resource-groups-tagging-api";
import type { ConfigurationLocation } from "@faultline/protocol";
import type { ExtensionVersionProbe } from "./extension-version.ts";
import type { TemplateTarget } from "./model.ts";
import {
  checkEnvironment,
  checkLayers,
  type EnvironmentVerdict,
  type Readiness,
  type ReadinessOptions,
} from "./readiness.ts";

export { DEFAULT_READINESS, type Readiness, type ReadinessOptions } from "./readiness.ts";

/** One function chosen for a target, with what the engine needs to inject into it. */
export interface ResolvedFunction {
  arn: string;
  name: string;
  qualifier?: string;
  /** Where this function's extension reads faults, if it says. */
  location?: ConfigurationLocation;
  readiness: Readiness;
  /** Its layers' version ARNs, as GetFunction/ListFunctions report them. */
  layerArns?: string[];
  /** Which extension its layers carry: `faultline 0.1.0`, `aws-fis-extension-x86_64:9`… */
  extension?: string;
  /** The faultline extension version in its layer, or `unknown (…)` when it could not be read. */
  extensionVersion?: string;
  /** The extension its wrapper asks for (from the environment check). */
  expects?: EnvironmentVerdict["expects"];
}

export class TargetResolutionError extends Error {
  override readonly name = "TargetResolutionError";
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Values found at a dotted PascalCase path; arrays along the way fan out. */
function valuesAt(value: unknown, path: string[]): string[] {
  if (path.length === 0) {
    if (Array.isArray(value)) return value.flatMap((v) => valuesAt(v, []));
    return value === undefined || value === null ? [] : [String(value)];
  }
  if (Array.isArray(value)) return value.flatMap((v) => valuesAt(v, path));
  if (typeof value !== "object" || value === null) return [];
  return valuesAt((value as Record<string, unknown>)[path[0]!], path.slice(1));
}

/** FIS selection: ALL, COUNT(n) at random, PERCENT(n) rounded down but at least one. */
export function select<T>(items: T[], mode: string, random: () => number): T[] {
  const count = /^COUNT\((\d+)\)$/.exec(mode);
  const percent = /^PERCENT\((\d+)\)$/.exec(mode);
  let n = items.length;
  if (count) n = Math.min(items.length, Number(count[1]));
  else if (percent && items.length > 0)
    n = Math.max(1, Math.floor((items.length * Number(percent[1])) / 100));
  if (n >= items.length) return items;
  const pool = [...items];
  for (let i = pool.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, n);
}

export interface ResolveOptions {
  lambda: LambdaClient;
  /** Resource Groups Tagging API: one paged GetResources for tag-selected targets (as FIS does). */
  tagging?: ResourceGroupsTaggingAPIClient;
  /** Reads the extension version in each target's faultline layer; absent → not checked. */
  versions?: ExtensionVersionProbe;
  random: () => number;
  readiness: ReadinessOptions;
  concurrency: number;
  log: (message: string) => void;
}

/**
 * Resolves one template target through the Lambda API, once, at experiment start:
 * ARNs via GetFunction; tags and filters via ListFunctions (+ GetResources, or ListTags), then selection.
 * Either way the function's own environment (AWS_FIS_CONFIGURATION_LOCATION, wrapper) and layers decide where
 * faults go, and its faultline layer's version file whether they will be read.
 */
export async function resolveTarget(
  target: TemplateTarget,
  options: ResolveOptions,
): Promise<ResolvedFunction[]> {
  const resolved = await resolveFunctions(target, options);
  // Sequential: functions share layers, and the probe reads each layer version once.
  for (const fn of resolved) {
    const verdict = await checkLayers(fn.name, fn.layerArns ?? [], fn.expects, options.versions);
    fn.readiness.problems.push(...verdict.problems);
    fn.readiness.ready = fn.readiness.problems.length === 0;
    if (verdict.extension) fn.extension = verdict.extension;
    if (verdict.extensionVersion) fn.extensionVersion = verdict.extensionVersion;
  }
  return resolved;
}

async function resolveFunctions(
  target: TemplateTarget,
  options: ResolveOptions,
): Promise<ResolvedFunction[]> {
  const { lambda } = options;
  const qualifier = target.parameters?.functionQualifier;
  const toResolved = (config: FunctionConfiguration): ResolvedFunction => {
    const { readiness, location, expects } = checkEnvironment(config, options.readiness);
    const fn: ResolvedFunction = { arn: config.FunctionArn!, name: config.FunctionName!, readiness };
    if (expects) fn.expects = expects;
    const layerArns = (config.Layers ?? []).flatMap((l) => (l.Arn ? [l.Arn] : []));
    if (layerArns.length > 0) fn.layerArns = layerArns;
    if (qualifier) fn.qualifier = qualifier;
    if (location) fn.location = location;
    return fn;
  };
  if (!target.resourceArns || target.resourceArns.length === 0) {
    let candidates: FunctionConfiguration[] = [];
    let marker: string | undefined;
    do {
      const page = await lambda.send(new ListFunctionsCommand({ Marker: marker, MaxItems: 50 }));
      candidates.push(...(page.Functions ?? []));
      marker = page.NextMarker;
    } while (marker);
    for (const filter of target.filters ?? []) {
      const path = filter.path.split(".");
      candidates = candidates.filter((fn) => valuesAt(fn, path).some((v) => filter.values.includes(v)));
    }
    const wanted = Object.entries(target.resourceTags ?? {});
    if (wanted.length > 0) {
      const arns = options.tagging ? await taggedArns(options.tagging, wanted, options.log) : undefined;
      if (arns) {
        candidates = candidates.filter((fn) => arns.has(fn.FunctionArn ?? ""));
      } else {
        const tagged = await mapLimit(candidates, options.concurrency, async (fn) => {
          const { Tags } = await lambda.send(new ListTagsCommand({ Resource: fn.FunctionArn }));
          return wanted.every(([k, v]) => Tags?.[k] === v) ? fn : undefined;
        });
        candidates = tagged.filter((fn): fn is FunctionConfiguration => fn !== undefined);
      }
    }
    // ListFunctions already carries each function's Environment and Layers (the fields readiness needs),
    // so a second GetFunction per function would only double the calls for large fleets.
    return select(candidates, target.selectionMode, options.random).map(toResolved);
  }
  const chosen = select(target.resourceArns, target.selectionMode, options.random);
  return mapLimit(chosen, options.concurrency, async (name) => {
    let config: FunctionConfiguration | undefined;
    try {
      config = (await lambda.send(new GetFunctionCommand({ FunctionName: name }))).Configuration;
    } catch (error) {
      if ((error as Error).name === "ResourceNotFoundException") {
        throw new TargetResolutionError(`Target resource ${name} was not found`);
      }
      throw error;
    }
    if (!config?.FunctionArn || !config.FunctionName) {
      throw new TargetResolutionError(`GetFunction returned no configuration for ${name}`);
    }
    return toResolved(config);
  });
}

/**
 * ARNs of the functions carrying every wanted tag, through tag:GetResources. Undefined when the tagging API
 * cannot be used (no permission, an endpoint without it): the caller falls back to ListTags per function.
 */
async function taggedArns(
  tagging: ResourceGroupsTaggingAPIClient,
  wanted: Array<[string, string]>,
  log: (message: string) => void,
): Promise<Set<string> | undefined> {
  const arns = new Set<string>();
  let token: string | undefined;
  try {
    do {
      const page = await tagging.send(
        new GetResourcesCommand({
          ResourceTypeFilters: ["lambda:function"],
          TagFilters: wanted.map(([Key, value]) => ({ Key, Values: [value] })),
          ResourcesPerPage: 100,
          PaginationToken: token,
        }),
      );
      for (const mapping of page.ResourceTagMappingList ?? []) {
        if (mapping.ResourceARN) arns.add(mapping.ResourceARN);
      }
      // The service ends a listing with an empty token rather than none.
      token = page.PaginationToken || undefined;
    } while (token);
  } catch (error) {
    log(
      `tag:GetResources failed (${(error as Error).message}); reading tags with ListTags per function instead`,
    );
    return undefined;
  }
  return arns;
}

/** The functions an action injects into, and the ones it leaves out (not ready, or nowhere to write). */
export function partitionReady(fns: ResolvedFunction[]): {
  ready: ResolvedFunction[];
  notReady: ResolvedFunction[];
} {
  const ready = fns.filter((fn) => fn.readiness.ready && fn.location);
  return { ready, notReady: fns.filter((fn) => !ready.includes(fn)) };
}

/** The first problems of `fns`, in one sentence-sized string. */
export function describeProblems(fns: ResolvedFunction[], limit = 5): string {
  const why = fns.flatMap((fn) => fn.readiness.problems).slice(0, limit);
  const more = fns.length > limit ? ` (and ${fns.length - limit} more functions)` : "";
  return `${why.join("; ")}${more}`;
}
