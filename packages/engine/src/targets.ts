import {
  type FunctionConfiguration,
  GetFunctionCommand,
  type LambdaClient,
  ListFunctionsCommand,
  ListTagsCommand,
} from "@aws-sdk/client-lambda";
import { type ConfigurationLocation, parseConfigurationLocation } from "@faultline/protocol";
import type { TemplateTarget } from "./model.ts";

/** One function chosen for a target, with what the engine needs to inject into it. */
export interface ResolvedFunction {
  arn: string;
  name: string;
  qualifier?: string;
  /** Where this function's extension reads faults, if it says. */
  location?: ConfigurationLocation;
  readiness: Readiness;
}

export interface Readiness {
  ready: boolean;
  /** Plain-language problems; any one makes `ready` false. */
  problems: string[];
}

export interface ReadinessOptions {
  /** The exec wrapper the faultline layer ships. */
  wrapper: string;
  /** A layer ARN matching this is taken for the faultline layer. */
  layerPattern: RegExp;
  /** When set, a configuration location in another bucket is a problem. */
  expectedBucket?: string;
}

export const DEFAULT_READINESS: ReadinessOptions = {
  wrapper: "/opt/faultline/bootstrap",
  layerPattern: /faultline/i,
};

export class TargetResolutionError extends Error {
  override readonly name = "TargetResolutionError";
}

/**
 * Checks, in words, whether faults written for this function will be injected: the commonest FIS failure
 * is an experiment that "succeeds" while nothing happens.
 */
export function checkReadiness(
  config: FunctionConfiguration,
  options: ReadinessOptions,
): { readiness: Readiness; location?: ConfigurationLocation } {
  const name = config.FunctionName ?? "(unnamed)";
  const env = config.Environment?.Variables ?? {};
  const problems: string[] = [];
  const layers = (config.Layers ?? []).map((l) => l.Arn ?? "");
  if (!layers.some((arn) => options.layerPattern.test(arn))) {
    problems.push(
      `function ${name} has no faultline layer attached (layers: ${layers.join(", ") || "none"})`,
    );
  }
  const wrapper = env.AWS_LAMBDA_EXEC_WRAPPER;
  if (wrapper !== options.wrapper) {
    problems.push(
      wrapper === undefined
        ? `function ${name} does not set AWS_LAMBDA_EXEC_WRAPPER=${options.wrapper}`
        : `function ${name} sets AWS_LAMBDA_EXEC_WRAPPER=${wrapper}, expected ${options.wrapper}`,
    );
  }
  let location: ConfigurationLocation | undefined;
  const raw = env.AWS_FIS_CONFIGURATION_LOCATION;
  if (raw === undefined) {
    problems.push(
      `function ${name} has no AWS_FIS_CONFIGURATION_LOCATION: the faultline extension is not configured, so there is nowhere to write its faults`,
    );
  } else {
    try {
      location = parseConfigurationLocation(raw);
      if (options.expectedBucket && location.bucket !== options.expectedBucket) {
        problems.push(
          `function ${name} reads faults from bucket ${location.bucket}, not the expected ${options.expectedBucket}`,
        );
      }
    } catch (error) {
      problems.push(
        `function ${name} has an unusable AWS_FIS_CONFIGURATION_LOCATION: ${(error as Error).message}`,
      );
    }
  }
  const readiness = { ready: problems.length === 0, problems };
  return location ? { readiness, location } : { readiness };
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

/**
 * Resolves one template target through the Lambda API, once, at experiment start:
 * ARNs via GetFunction; tags and filters via ListFunctions (+ ListTags), then selection. Either way the
 * function's own environment (AWS_FIS_CONFIGURATION_LOCATION, wrapper) and layers decide where faults go.
 */
export async function resolveTarget(
  lambda: LambdaClient,
  target: TemplateTarget,
  options: { random: () => number; readiness: ReadinessOptions; concurrency: number },
): Promise<ResolvedFunction[]> {
  const qualifier = target.parameters?.functionQualifier;
  const toResolved = (config: FunctionConfiguration): ResolvedFunction => {
    const { readiness, location } = checkReadiness(config, options.readiness);
    const fn: ResolvedFunction = { arn: config.FunctionArn!, name: config.FunctionName!, readiness };
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
      const tagged = await mapLimit(candidates, options.concurrency, async (fn) => {
        const { Tags } = await lambda.send(new ListTagsCommand({ Resource: fn.FunctionArn }));
        return wanted.every(([k, v]) => Tags?.[k] === v) ? fn : undefined;
      });
      candidates = tagged.filter((fn): fn is FunctionConfiguration => fn !== undefined);
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
