/**
 * The console's only way out: FIS operations and the console's helpers on its own origin (relative URLs).
 * Errors arrive as the API renders them (`x-amzn-errortype` + `{message}`); a ValidationException's message
 * starts with the field it names (`actions.fault.parameters.duration: …`).
 */
// Types only (erased by Vite): the wire shapes come from the packages that answer them.
import type { ExperimentMetrics, LabSnapshot } from "@faultline/api/console-types";
import type { TemplateAction, TemplateTarget } from "@faultline/engine/model";

export type { LabSnapshot, TemplateAction, TemplateTarget };

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

export interface Template {
  id: string;
  description: string;
  roleArn?: string;
  targets: Record<string, TemplateTarget>;
  actions: Record<string, TemplateAction>;
  stopConditions: Array<{ source: string; value?: string }>;
  experimentReportConfiguration?: ReportConfiguration;
  logConfiguration?: unknown;
  experimentOptions?: Record<string, string>;
  creationTime?: number;
  lastUpdateTime?: number;
  tags?: Record<string, string>;
}

export interface ReportConfiguration {
  outputs?: { s3Configuration?: { bucketName: string; prefix?: string } };
  dataSources?: { cloudWatchDashboards?: Array<{ dashboardIdentifier: string }> };
  preExperimentDuration?: string;
  postExperimentDuration?: string;
}

/** Times are epoch seconds here (restJson1), not the engine's Dates. */
export interface ExperimentAction extends TemplateAction {
  state: { status: string; reason: string };
  startTime?: number;
  endTime?: number;
}

export interface Experiment {
  id: string;
  experimentTemplateId: string;
  state: { status: string; reason: string; error?: { code: string; location?: string } };
  targets: Record<string, TemplateTarget>;
  /** Absent in ListExperiments' summaries. */
  actions?: Record<string, ExperimentAction>;
  creationTime: number;
  startTime?: number;
  endTime?: number;
  tags?: Record<string, string>;
  experimentOptions?: { actionsMode?: string };
  experimentReportConfiguration?: ReportConfiguration;
  experimentReport?: { state: { status: string; reason?: string } };
}

export interface ResolvedTarget {
  resourceType: string;
  targetName: string;
  targetInformation: Record<string, string>;
}

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

export const TERMINAL = new Set(["completed", "stopped", "failed", "cancelled"]);

/** Epoch seconds (restJson1) → a local time. */
export function time(seconds: number | undefined): string {
  return seconds === undefined ? "—" : new Date(seconds * 1000).toLocaleString();
}
