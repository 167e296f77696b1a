/**
 * What the console's helper routes answer (packages/api/src/console.ts): JSON shapes only, no imports, so the
 * console front end can `import type` them without pulling the API into its build.
 */

/** GET /console/api/lab: what `faultline up` tells the console about its lab. */
export interface LabSnapshot {
  functions: Array<{
    name: string;
    arn: string;
    runtime: string;
    tags: Record<string, string>;
    /** Environments alive now: busy ones run an invocation, idle ones are frozen between invocations. */
    environments: number;
    busy: number;
    idle: number;
    /** Environments created since the lab started (cold starts). */
    created: number;
  }>;
  /** Most recent first. */
  invocations: Array<{
    functionName: string;
    startMs: number;
    durationMs: number;
    outcome: "success" | "error" | "throttled";
    coldStart: boolean;
  }>;
}

/** GET /console/api/experiments/{id}/metrics: per-second metrics summed over the experiment's targets. */
export interface ExperimentMetrics {
  /** Epoch ms of each one-second period, ascending. */
  t: number[];
  invocations: number[];
  errors: number[];
  /** null where the second had no invocation. */
  p50: (number | null)[];
  p99: (number | null)[];
  faultInjected: number[];
  /** The experiment window (end absent while it runs), epoch ms. */
  startMs?: number;
  endMs?: number;
  functions: string[];
}
