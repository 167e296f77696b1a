/**
 * The console's only way out: FIS operations and the console's helpers on its own origin (relative URLs).
 * Errors arrive as the API renders them (`x-amzn-errortype` + `{message}`); a ValidationException's message
 * starts with the field it names (`actions.fault.parameters.duration: …`).
 */
// The wire shapes come from the packages that answer them: types only (erased by Vite), and from the engine's
// model (no imports, nothing Node-only) its state lists, so the console never re-types them.
import type { ExperimentMetrics, LabSnapshot } from "@faultline/api/console-types";
import type * as model from "@faultline/engine/model";
import { EXPERIMENT_STATUSES, TERMINAL_EXPERIMENT } from "@faultline/engine/model";

export type { LabSnapshot };
export type TemplateAction = model.TemplateAction;
export type TemplateTarget = model.TemplateTarget;
export type ReportConfiguration = model.ExperimentReportConfiguration;
export type ResolvedTarget = model.ResolvedTarget;

/** The engine's shapes as restJson1 renders them: Dates become epoch seconds. */
type Wire<T> = T extends Date
  ? number
  : T extends readonly (infer E)[]
    ? Wire<E>[]
    : T extends object
      ? { [K in keyof T]: Wire<T[K]> }
      : T;

export type Template = Wire<model.ExperimentTemplate>;
/** ListExperimentTemplates' summaries, as FIS has them: no actions, targets or stop conditions. */
export type TemplateSummary = Pick<
  Template,
  "id" | "arn" | "description" | "creationTime" | "lastUpdateTime" | "tags"
>;
export type ExperimentAction = Wire<model.ExperimentAction>;
/** GetExperiment's experiment; ListExperiments' summaries lack its actions and options. */
export type Experiment = Omit<Wire<model.Experiment>, "actions" | "experimentOptions"> & {
  actions?: Record<string, ExperimentAction>;
  experimentOptions?: Partial<model.Experiment["experimentOptions"]>;
};

/** Every experiment state, in lifecycle order (the experiments list's filter). */
export const EXPERIMENT_STATES: readonly string[] = EXPERIMENT_STATUSES;
/** States an experiment never leaves. */
export const TERMINAL: ReadonlySet<string> = TERMINAL_EXPERIMENT;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
  /** The field a ValidationException names, or undefined. */
  get field(): string | undefined {
    if (this.code !== "ValidationException") return undefined;
    const m = /^([\w.[\]()*:/-]+): /.exec(this.message);
    return m?.[1];
  }
}

/** Relative to the console's origin; `/console/` pages call the API at the origin's root. */
export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) {
    let message = text;
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? text;
    } catch {
      // not JSON: keep the text
    }
    throw new ApiError(res.status, res.headers.get("x-amzn-errortype") ?? `HTTP ${res.status}`, message);
  }
  return (text ? JSON.parse(text) : {}) as T;
}

export const enc = encodeURIComponent;

export interface ActionSummary {
  id: string;
  description: string;
  parameters?: Record<string, { description: string; required: boolean }>;
  targets?: Record<string, { resourceType: string }>;
}

/** The console helper routes' answers, as packages/api/src/console-types.ts defines them. */
export type Metrics = ExperimentMetrics;

export interface SafetyLever {
  id: string;
  arn?: string;
  state: { status: string; reason?: string };
}

/**
 * The full items behind a list's summaries (FIS's lists leave out actions and more): GetX of the first `max`
 * in the order given, six at a time; the rest stay summaries.
 */
export async function detailed<S extends { id: string }, T>(
  summaries: S[],
  get: (id: string) => Promise<T>,
  max = 100,
): Promise<Array<S | T>> {
  const out: Array<S | T> = [...summaries];
  for (let i = 0; i < Math.min(max, summaries.length); i += 6) {
    const batch = await Promise.all(summaries.slice(i, Math.min(i + 6, max)).map((s) => get(s.id)));
    out.splice(i, batch.length, ...batch);
  }
  return out;
}

/** Every page of a FIS list operation. */
export async function listAll<T>(path: string, key: string): Promise<T[]> {
  const out: T[] = [];
  let token: string | undefined;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const page = await call<Record<string, unknown>>(
      "GET",
      `${path}${sep}maxResults=100${token ? `&nextToken=${enc(token)}` : ""}`,
    );
    out.push(...((page[key] as T[] | undefined) ?? []));
    token = page.nextToken as string | undefined;
  } while (token);
  return out;
}

/** Epoch seconds (restJson1) → a local time. */
export function time(seconds: number | undefined): string {
  return seconds === undefined ? "—" : new Date(seconds * 1000).toLocaleString();
}
