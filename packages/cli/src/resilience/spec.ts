/**
 * The resilience test file (YAML or JSON): where the system runs, the load, the experiment, the windows and the
 * assertions. Validated with zod; every error names the file and the field. docs/testing.md documents it.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { TestFileError } from "../errors.ts";

const positive = (what: string) =>
  z
    .number({ error: `must be a number of ${what}` })
    .positive({ error: `must be a positive number of ${what}` });
const ratio = z
  .number({ error: "must be a ratio from 0 to 1 (e.g. 0.01 for 1 %)" })
  .min(0, { error: "must be a ratio from 0 to 1 (e.g. 0.01 for 1 %)" })
  .max(1, { error: "must be a ratio from 0 to 1 (e.g. 0.01 for 1 %)" });
const ms = z
  .number({ error: "must be a number of milliseconds" })
  .nonnegative({ error: "must be a number of milliseconds, 0 or more" });

/** One request of the HTTP mix. `{id}` in the path is replaced with an id an earlier POST answered with. */
const httpRequest = z.strictObject({
  name: z.string().min(1).optional(),
  method: z.enum(["GET", "POST", "PUT", "PATCH", "DELETE"], {
    error: "must be GET, POST, PUT, PATCH or DELETE",
  }),
  path: z.string({ error: "must be a path such as /orders" }).startsWith("/", { error: "must start with /" }),
  body: z.unknown().optional(),
  weight: positive("shares").default(1),
});

const load = z.strictObject({
  rate: positive("requests per second").max(200, { error: "must be at most 200 requests per second" }),
  /** HTTP requests against an API: a lab API by name, or a URL. */
  api: z.string().min(1, { error: "must name a lab API or be a URL" }).optional(),
  requests: z.array(httpRequest).min(1, { error: "must list at least one request" }).optional(),
  /** Or Lambda Invoke of one function. */
  invoke: z.strictObject({ function: z.string().min(1), payload: z.unknown().optional() }).optional(),
  timeoutMs: positive("milliseconds").default(15_000),
});

const experiment = z.strictObject({
  /** A FIS template JSON file (relative to the test file). */
  template: z.string().min(1).optional(),
  /** Or a scenario of the library, with its parameters (`faultline scenarios show <name>`). */
  scenario: z.string().min(1).optional(),
  parameters: z.record(z.string(), z.union([z.string(), z.number()])).default({}),
});

const windows = z.strictObject({
  warmup: z.number({ error: "must be a number of seconds" }).nonnegative().default(2),
  pre: positive("seconds"),
  /** The fault's duration: sets the template's action durations. Default: the template's own. */
  during: positive("seconds").optional(),
  post: positive("seconds"),
});

/**
 * A named CloudWatch metric over the phase's window (one period spanning it), read with the AWS SDK from the lab's
 * CloudWatch (or endpoints.cloudwatch): e.g. the extension's FaultInjected, or AWS/Lambda Errors of a function.
 */
const metric = z.strictObject({
  namespace: z.string({ error: "must be a CloudWatch namespace such as AWS/Lambda" }).min(1),
  name: z.string({ error: "must be a metric name such as Errors" }).min(1),
  /** The metric's exact dimensions, as CloudWatch identifies a metric. */
  dimensions: z.record(z.string(), z.string({ error: "must be a string" })).default({}),
  statistic: z
    .string()
    .regex(/^(Sum|SampleCount|Average|Minimum|Maximum|p\d{1,2}(\.\d+)?)$/, {
      error: "must be Sum, SampleCount, Average, Minimum, Maximum or a percentile such as p99",
    })
    .default("Sum"),
  min: z.number({ error: "must be a number" }).optional(),
  max: z.number({ error: "must be a number" }).optional(),
  /** How the verdict names it (default: "<name> <statistic>" and its dimensions). */
  label: z.string().min(1).optional(),
});

const phaseChecks = {
  errorRate: z.strictObject({ max: ratio }).optional(),
  p99: z.strictObject({ maxMs: ms }).optional(),
  p50: z.strictObject({ maxMs: ms }).optional(),
  metrics: z.array(metric).default([]),
};

const probe = z.strictObject({
  name: z.string().min(1),
  http: z
    .strictObject({ url: z.url({ error: "must be a URL" }), status: z.number().int().default(200) })
    .optional(),
  command: z.strictObject({ run: z.string().min(1), exitCode: z.number().int().default(0) }).optional(),
  dynamodbCount: z
    .strictObject({
      table: z.string().min(1),
      min: z.number().int().nonnegative().optional(),
      /** At least as many items as successful (2xx) requests of this name — "nothing lost". */
      atLeastSucceeded: z.string().min(1).optional(),
    })
    .optional(),
});

const assertions = z.strictObject({
  pre: z.strictObject(phaseChecks).default({ metrics: [] }),
  during: z
    .strictObject({ ...phaseChecks, timeToEffect: z.strictObject({ maxMs: ms }).optional() })
    .default({ metrics: [] }),
  after: z
    .strictObject({
      ...phaseChecks,
      timeToRecover: z.strictObject({ maxMs: ms }).optional(),
      probes: z.array(probe).default([]),
    })
    .default({ metrics: [], probes: [] }),
});

const testFile = z.strictObject({
  name: z.string({ error: "must name the test" }).min(1),
  /** A lab config file (relative to the test file): `faultline test` starts the lab and the engine. */
  lab: z.string().min(1).optional(),
  /** Or a running `faultline up`: its FIS API (and Lambda API, for invoke load). */
  endpoints: z
    .strictObject({
      fis: z.url(),
      lambda: z.url().optional(),
      dynamodb: z.url().optional(),
      cloudwatch: z.url().optional(),
    })
    .optional(),
  load,
  experiment,
  windows,
  assertions,
});

export type TestSpec = z.infer<typeof testFile> & { file: string; baseDir: string };
export type ProbeSpec = z.infer<typeof probe>;
export type MetricSpec = z.infer<typeof metric>;

/** Reads and validates a test file; TestFileError lists every problem with its field. */
export function loadTestFile(path: string): TestSpec {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new TestFileError(path, [{ field: "", message: `cannot read it (${(error as Error).message})` }]);
  }
  let raw: unknown;
  try {
    raw = /\.json$/i.test(path) ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new TestFileError(path, [
      {
        field: "",
        message: `not valid ${/\.json$/i.test(path) ? "JSON" : "YAML"} (${(error as Error).message})`,
      },
    ]);
  }
  return parseTestSpec(raw, path);
}

export function parseTestSpec(raw: unknown, file = "<inline>", baseDir = dirname(resolve(file))): TestSpec {
  const parsed = testFile.safeParse(raw);
  if (!parsed.success) {
    throw new TestFileError(
      file,
      parsed.error.issues.map((i) => ({ field: i.path.map(String).join("."), message: i.message })),
    );
  }
  const spec = parsed.data;
  const issues: { field: string; message: string }[] = [];
  const exactlyOne = (field: string, options: Record<string, unknown>) => {
    const given = Object.entries(options).filter(([, v]) => v !== undefined);
    if (given.length !== 1)
      issues.push({ field, message: `needs exactly one of ${Object.keys(options).join(", ")}` });
  };
  exactlyOne("(top level)", { lab: spec.lab, endpoints: spec.endpoints });
  exactlyOne("load", { requests: spec.load.requests, invoke: spec.load.invoke });
  if (spec.load.requests && !spec.load.api)
    issues.push({ field: "load.api", message: "is required with load.requests (a lab API name or a URL)" });
  exactlyOne("experiment", { template: spec.experiment.template, scenario: spec.experiment.scenario });
  spec.assertions.after.probes.forEach((p, i) => {
    exactlyOne(`assertions.after.probes.${i}`, {
      http: p.http,
      command: p.command,
      dynamodbCount: p.dynamodbCount,
    });
  });
  for (const phase of ["pre", "during", "after"] as const) {
    spec.assertions[phase].metrics.forEach((m, i) => {
      const field = `assertions.${phase}.metrics.${i}`;
      if (m.min === undefined && m.max === undefined)
        issues.push({ field, message: "needs min or max (the threshold)" });
      if (spec.endpoints && !spec.endpoints.cloudwatch)
        issues.push({ field, message: "needs endpoints.cloudwatch (where the metric is read)" });
    });
  }

  if (issues.length > 0) throw new TestFileError(file, issues);
  return { ...spec, file, baseDir };
}
