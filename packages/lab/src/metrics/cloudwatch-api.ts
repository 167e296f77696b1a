/**
 * A CloudWatch API (metrics, alarms, dashboards) over the lab's metric store, in the three protocols CloudWatch
 * clients speak (awsJson1_0 for the current SDK, rpc-v2-cbor for AWS CLI v1, awsQuery for AWS CLI v2; see
 * protocols.ts). Credentials are not checked (loopback only). The route table below lists every operation,
 * one handler each; handlers take decoded input and return plain objects with Dates for timestamps.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  ALARM_STATES,
  type Alarm,
  type AlarmDefinition,
  type AlarmState,
  type AlarmStateChange,
  evaluate,
  validateAlarm,
} from "./alarms.ts";
import {
  type Input,
  int,
  invalidValue,
  list,
  metricId,
  nextToken,
  num,
  object,
  paginate,
  string,
  strings,
  time,
  unit,
} from "./cloudwatch-input.ts";
import { DashboardStore } from "./dashboards.ts";
import { CloudWatchApiError, MetricInputError } from "./errors.ts";
import { decodeRequest, protocolOf, render } from "./protocols.ts";
import { parseStatistic } from "./statistics.ts";
import type { MetricId, MetricStore } from "./store.ts";
import type { StandardUnit } from "./units.ts";

export interface CloudWatchClock {
  /** Epoch milliseconds. */
  now(): number;
}

export interface CloudWatchServiceOptions {
  region?: string;
  accountId?: string;
  /** Request bodies larger than this are refused with 413. PutMetricData allows 1 MB. */
  maxBodyBytes?: number;
}

export interface CloudWatchService {
  /**
   * Node http handler: `http.createServer(service.handle)`. Caller errors are answered in CloudWatch's shape; a
   * rejection is a lab bug (startCloudWatchServer answers it 500 and logs it).
   */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Calls one operation in-process (same validation and output as over HTTP). */
  call(operation: string, input: Record<string, unknown>): Record<string, unknown>;
  /** Re-evaluates every alarm at the clock's now; returns the state changes. */
  evaluateAlarms(): AlarmStateChange[];
  /** Declares an alarm (lab config); same rules as PutMetricAlarm. */
  putAlarm(definition: AlarmDefinition): void;
  /** Declares a dashboard (lab config); same rules as PutDashboard. */
  putDashboard(name: string, body: string | object): void;
  alarm(name: string): Alarm | undefined;
  /** Every alarm state change. Returns the unsubscribe function. */
  onAlarmStateChange(listener: (change: AlarmStateChange) => void): () => void;
  readonly store: MetricStore;
  readonly dashboards: DashboardStore;
}

/** The state one service's handlers share. */
interface CloudWatch {
  readonly store: MetricStore;
  readonly clock: CloudWatchClock;
  readonly region: string;
  readonly accountId: string;
  readonly alarms: Map<string, Alarm>;
  readonly dashboards: DashboardStore;
  readonly listeners: Set<(c: AlarmStateChange) => void>;
}

type Handler = (cw: CloudWatch, input: Input) => Record<string, unknown>;

/** Every operation the lab answers, one handler each. Anything else is UnknownOperationException. */
const ROUTES: Record<string, Handler> = {
  GetMetricData: getMetricData,
  GetMetricStatistics: getMetricStatistics,
  PutMetricData: putMetricData,
  ListMetrics: listMetrics,
  PutMetricAlarm: putMetricAlarm,
  DescribeAlarms: describeAlarms,
  SetAlarmState: setAlarmState,
  DeleteAlarms: deleteAlarms,
  PutDashboard: putDashboard,
  GetDashboard: getDashboard,
  ListDashboards: listDashboards,
  DeleteDashboards: deleteDashboards,
};

export function createCloudWatchService(
  store: MetricStore,
  clock: CloudWatchClock = { now: () => Date.now() },
  options: CloudWatchServiceOptions = {},
): CloudWatchService {
  const cw: CloudWatch = {
    store,
    clock,
    region: options.region ?? "us-east-1",
    accountId: options.accountId ?? "123456789012",
    alarms: new Map(),
    dashboards: new DashboardStore(),
    listeners: new Set(),
  };
  const maxBody = options.maxBodyBytes ?? 2 * 1024 * 1024;
  return {
    handle: (req, res) => handle(cw, maxBody, req, res),
    call: (operation, input) => call(cw, operation, input),
    evaluateAlarms: () => evaluateAlarms(cw),
    putAlarm: (definition) => putAlarm(cw, definition),
    putDashboard: (name, body) =>
      cw.dashboards.put(name, typeof body === "string" ? body : JSON.stringify(body), clock.now()),
    alarm: (name) => cw.alarms.get(name),
    onAlarmStateChange(listener) {
      cw.listeners.add(listener);
      return () => cw.listeners.delete(listener);
    },
    store,
    dashboards: cw.dashboards,
  };
}

// --- dispatch -------------------------------------------------------------------------------------------------

function call(cw: CloudWatch, operation: string, input: Input): Record<string, unknown> {
  const handler = Object.hasOwn(ROUTES, operation) ? ROUTES[operation] : undefined;
  if (!handler) {
    throw new CloudWatchApiError(
      "UnknownOperationException",
      400,
      `operation ${operation} is not supported by the lab`,
    );
  }
  try {
    return handler(cw, input);
  } catch (e) {
    if (e instanceof MetricInputError) throw invalidValue(e.field, e.message.slice(e.field.length + 2));
    throw e;
  }
}

/** Answers one request; a rejection is a lab bug (every caller error is rendered here), left to the guard. */
async function handle(
  cw: CloudWatch,
  maxBody: number,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const protocol = protocolOf(req);
  const body = await readBody(req, maxBody);
  if (body === undefined) {
    render(
      res,
      protocol,
      "",
      new CloudWatchApiError("RequestEntityTooLarge", 413, `request body over ${maxBody} bytes`),
    );
    return;
  }
  let operation = "";
  let outcome: Record<string, unknown> | CloudWatchApiError;
  try {
    const decoded = decodeRequest(req, body);
    operation = decoded.operation;
    outcome = call(cw, operation, decoded.input);
  } catch (e) {
    if (!(e instanceof CloudWatchApiError)) throw e;
    outcome = e;
  }
  render(res, protocol, operation, outcome);
}

/** The whole body, or undefined past `limit` bytes (the rest is drained, so the client can read the answer). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size <= limit) chunks.push(c);
      else if (chunks.length > 0) chunks.length = 0;
    });
    req.on("end", () => resolve(size > limit ? undefined : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

// --- metrics --------------------------------------------------------------------------------------------------

function getMetricData(cw: CloudWatch, input: Input): Record<string, unknown> {
  const start = time(input.StartTime, "StartTime");
  const end = time(input.EndTime, "EndTime");
  const queries = list(input.MetricDataQueries, "MetricDataQueries");
  if (queries.length === 0 || queries.length > 500) {
    throw invalidValue("MetricDataQueries", "must hold 1–500 queries");
  }
  const descending = (input.ScanBy ?? "TimestampDescending") === "TimestampDescending";
  const results = queries.map((raw, i) =>
    metricDataResult(
      cw,
      object(raw, `MetricDataQueries[${i}]`),
      `MetricDataQueries[${i}]`,
      start,
      end,
      descending,
    ),
  );
  return {
    MetricDataResults: results.filter((r) => r.ReturnData !== false).map(({ ReturnData: _, ...r }) => r),
    Messages: [],
  };
}

/** One MetricDataQuery's result (MetricStat only), with ReturnData still attached for the caller to filter. */
function metricDataResult(
  cw: CloudWatch,
  q: Input,
  field: string,
  start: number,
  end: number,
  descending: boolean,
) {
  const id = string(q.Id, `${field}.Id`);
  if (!/^[a-z][a-zA-Z0-9_]*$/.test(id)) {
    throw invalidValue(`${field}.Id`, "must start with a lowercase letter, then letters, digits or _");
  }
  if (q.Expression !== undefined) {
    throw invalidValue(`${field}.Expression`, "metric math is not supported by the lab; use MetricStat");
  }
  const ms = object(q.MetricStat, `${field}.MetricStat`);
  const metric = metricId(object(ms.Metric, `${field}.MetricStat.Metric`), `${field}.MetricStat.Metric`);
  const period = int(ms.Period, `${field}.MetricStat.Period`);
  const stat = string(ms.Stat, `${field}.MetricStat.Stat`);
  const u = unit(ms.Unit, `${field}.MetricStat.Unit`);
  const series = query(cw, metric, period, stat, u, start, end, `${field}.MetricStat`);
  const timestamps = series.timestamps.map((t) => new Date(t));
  const values = series.values;
  if (descending) {
    timestamps.reverse();
    values.reverse();
  }
  return {
    Id: id,
    Label: typeof q.Label === "string" ? q.Label : metric.metricName,
    Timestamps: timestamps,
    Values: values,
    StatusCode: "Complete",
    ReturnData: q.ReturnData ?? true,
  };
}

function getMetricStatistics(cw: CloudWatch, input: Input): Record<string, unknown> {
  const metric = metricId(input, "");
  const start = time(input.StartTime, "StartTime");
  const end = time(input.EndTime, "EndTime");
  const period = int(input.Period, "Period");
  const u = unit(input.Unit, "Unit");
  const stats = input.Statistics === undefined ? [] : strings(input.Statistics, "Statistics");
  const extended =
    input.ExtendedStatistics === undefined ? [] : strings(input.ExtendedStatistics, "ExtendedStatistics");
  if (stats.length + extended.length === 0) {
    throw new CloudWatchApiError("MissingParameter", 400, "Statistics or ExtendedStatistics is required");
  }
  const byTime = new Map<number, Record<string, unknown>>();
  const point = (t: number) => {
    let p = byTime.get(t);
    if (!p) {
      p = { Timestamp: new Date(t), Unit: u ?? cw.store.unitsOf(metric)[0] ?? "None" };
      byTime.set(t, p);
    }
    return p;
  };
  for (const [i, s] of stats.entries()) {
    if (parseStatistic(s, `Statistics[${i}]`).kind === "percentile") {
      throw invalidValue(`Statistics[${i}]`, "percentiles go in ExtendedStatistics");
    }
    const series = query(cw, metric, period, s, u, start, end, "");
    series.timestamps.forEach((t, j) => {
      point(t)[s] = series.values[j];
    });
  }
  for (const [i, s] of extended.entries()) {
    if (parseStatistic(s, `ExtendedStatistics[${i}]`).kind !== "percentile") {
      throw invalidValue(`ExtendedStatistics[${i}]`, "must be a percentile (pNN)");
    }
    const series = query(cw, metric, period, s, u, start, end, "");
    series.timestamps.forEach((t, j) => {
      const p = point(t);
      p.ExtendedStatistics = { ...(p.ExtendedStatistics as object), [s]: series.values[j] };
    });
  }
  return { Label: metric.metricName, Datapoints: [...byTime.values()] };
}

/** Checks a statistics query's period, statistic and time range, then runs it; `field` prefixes Period/Stat. */
function query(
  cw: CloudWatch,
  metric: MetricId,
  period: number,
  stat: string,
  u: StandardUnit | undefined,
  start: number,
  end: number,
  field: string,
) {
  const at = (f: string) => (field ? `${field}.${f}` : f);
  if (period < 1) throw invalidValue(at("Period"), "must be at least 1 second");
  parseStatistic(stat, at(field ? "Stat" : "Statistics"));
  if (!(end > start)) throw invalidValue("EndTime", "must be after StartTime");
  return cw.store.query({ metric, period, stat, ...(u ? { unit: u } : {}) }, start, end);
}

function putMetricData(cw: CloudWatch, input: Input): Record<string, unknown> {
  const namespace = string(input.Namespace, "Namespace");
  if (namespace.startsWith("AWS/")) {
    throw invalidValue("Namespace", `"${namespace}" is reserved for AWS services`);
  }
  const data = list(input.MetricData, "MetricData");
  if (data.length > 1000) throw invalidValue("MetricData", "at most 1000 items per request");
  const now = cw.clock.now();
  // Validate everything first: one bad item refuses the whole request, as CloudWatch does.
  const puts = data.map((raw, i) => metricDatumPut(cw, raw, `MetricData[${i}]`, namespace, now));
  for (const put of puts) put();
  return {};
}

/** Validates one MetricDatum and returns the store write to run once the whole request is valid. */
function metricDatumPut(
  cw: CloudWatch,
  raw: unknown,
  field: string,
  namespace: string,
  now: number,
): () => void {
  const m = object(raw, field);
  const id = metricId({ ...m, Namespace: namespace }, field);
  const ts = m.Timestamp === undefined ? now : time(m.Timestamp, `${field}.Timestamp`);
  const u = unit(m.Unit, `${field}.Unit`) ?? "None";
  if (m.Value !== undefined) {
    const value = num(m.Value, `${field}.Value`);
    return () => cw.store.put({ ...id, value, unit: u, timestamp: ts });
  }
  if (m.Values !== undefined) {
    const values = list(m.Values, `${field}.Values`).map((v, j) => num(v, `${field}.Values[${j}]`));
    const counts =
      m.Counts === undefined
        ? values.map(() => 1)
        : list(m.Counts, `${field}.Counts`).map((v, j) => num(v, `${field}.Counts[${j}]`));
    if (counts.length !== values.length) throw invalidValue(`${field}.Counts`, "must be as long as Values");
    return () => {
      values.forEach((value, j) => {
        for (let k = 0; k < Math.min(counts[j]!, 10_000); k++)
          cw.store.put({ ...id, value, unit: u, timestamp: ts });
      });
    };
  }
  if (m.StatisticValues !== undefined) {
    const s = object(m.StatisticValues, `${field}.StatisticValues`);
    const set = {
      sampleCount: num(s.SampleCount, `${field}.StatisticValues.SampleCount`),
      sum: num(s.Sum, `${field}.StatisticValues.Sum`),
      minimum: num(s.Minimum, `${field}.StatisticValues.Minimum`),
      maximum: num(s.Maximum, `${field}.StatisticValues.Maximum`),
    };
    if (!(set.sampleCount > 0))
      throw invalidValue(`${field}.StatisticValues.SampleCount`, "must be positive");
    if (set.minimum > set.maximum) {
      throw invalidValue(`${field}.StatisticValues.Minimum`, "must not be greater than Maximum");
    }
    return () => cw.store.putStatistics(id, set, u, ts);
  }
  throw new CloudWatchApiError(
    "MissingParameter",
    400,
    `${field}: one of Value, Values or StatisticValues is required`,
  );
}

function listMetrics(cw: CloudWatch, input: Input): Record<string, unknown> {
  const dims =
    input.Dimensions === undefined
      ? []
      : list(input.Dimensions, "Dimensions").map((raw, i) => {
          const d = object(raw, `Dimensions[${i}]`);
          return {
            name: string(d.Name, `Dimensions[${i}].Name`),
            ...(d.Value === undefined ? {} : { value: string(d.Value, `Dimensions[${i}].Value`) }),
          };
        });
  if (input.RecentlyActive !== undefined && input.RecentlyActive !== "PT3H") {
    throw invalidValue("RecentlyActive", "must be PT3H");
  }
  const all = cw.store.list({
    ...(input.Namespace === undefined ? {} : { namespace: string(input.Namespace, "Namespace") }),
    ...(input.MetricName === undefined ? {} : { metricName: string(input.MetricName, "MetricName") }),
    dimensions: dims,
    ...(input.RecentlyActive === undefined ? {} : { sinceMs: cw.clock.now() - 3 * 3600_000 }),
  });
  const page = paginate(all, input.NextToken, 500);
  return {
    Metrics: page.items.map((m) => ({
      Namespace: m.namespace,
      MetricName: m.metricName,
      Dimensions: Object.entries(m.dimensions).map(([Name, Value]) => ({ Name, Value })),
    })),
    ...nextToken(page.next),
  };
}

// --- alarms ---------------------------------------------------------------------------------------------------

function putMetricAlarm(cw: CloudWatch, input: Input): Record<string, unknown> {
  if (input.Metrics !== undefined)
    throw invalidValue("Metrics", "metric math alarms are not supported by the lab");
  try {
    putAlarm(cw, input as unknown as AlarmDefinition);
  } catch (e) {
    if (e instanceof MetricInputError) throw invalidValue(e.field, e.message.slice(e.field.length + 2));
    throw e;
  }
  return {};
}

function describeAlarms(cw: CloudWatch, input: Input): Record<string, unknown> {
  // Alarms are evaluated on read too, so a reader never sees a state older than the data.
  evaluateAlarms(cw);
  const names = input.AlarmNames === undefined ? undefined : strings(input.AlarmNames, "AlarmNames");
  const prefix =
    input.AlarmNamePrefix === undefined ? undefined : string(input.AlarmNamePrefix, "AlarmNamePrefix");
  if (names !== undefined && prefix !== undefined) {
    throw invalidValue("AlarmNamePrefix", "cannot be combined with AlarmNames");
  }
  const state = input.StateValue === undefined ? undefined : string(input.StateValue, "StateValue");
  if (state !== undefined && !ALARM_STATES.includes(state as AlarmState)) {
    throw invalidValue("StateValue", "must be OK, ALARM or INSUFFICIENT_DATA");
  }
  const types = input.AlarmTypes === undefined ? ["MetricAlarm"] : list(input.AlarmTypes, "AlarmTypes");
  const max = input.MaxRecords === undefined ? 50 : int(input.MaxRecords, "MaxRecords");
  if (max < 1 || max > 100) throw invalidValue("MaxRecords", "must be 1–100");
  const matching = [...cw.alarms.values()]
    .filter(
      (a) =>
        (names === undefined || names.includes(a.definition.AlarmName)) &&
        (prefix === undefined || a.definition.AlarmName.startsWith(prefix)) &&
        (state === undefined || a.state === state),
    )
    .sort((a, b) => (a.definition.AlarmName < b.definition.AlarmName ? -1 : 1));
  const page = paginate(types.includes("MetricAlarm") ? matching : [], input.NextToken, max);
  return {
    MetricAlarms: page.items.map(alarmOut),
    CompositeAlarms: [],
    ...nextToken(page.next),
  };
}

function setAlarmState(cw: CloudWatch, input: Input): Record<string, unknown> {
  const name = string(input.AlarmName, "AlarmName");
  const state = string(input.StateValue, "StateValue");
  if (!ALARM_STATES.includes(state as AlarmState)) {
    throw invalidValue("StateValue", "must be OK, ALARM or INSUFFICIENT_DATA");
  }
  const reason = string(input.StateReason, "StateReason");
  const alarm = cw.alarms.get(name);
  if (!alarm) throw new CloudWatchApiError("ResourceNotFound", 404, `Alarm ${name} does not exist`);
  alarm.heldUntilMs = cw.clock.now() + alarm.definition.Period * 1000;
  setState(cw, alarm, state as AlarmState, reason, input.StateReasonData as string | undefined);
  return {};
}

function deleteAlarms(cw: CloudWatch, input: Input): Record<string, unknown> {
  const names = strings(input.AlarmNames, "AlarmNames");
  const missing = names.filter((n) => !cw.alarms.has(n));
  if (missing.length > 0) {
    throw new CloudWatchApiError("ResourceNotFound", 404, `Alarms not found: ${missing.join(", ")}`);
  }
  for (const n of names) cw.alarms.delete(n);
  return {};
}

function putAlarm(cw: CloudWatch, definition: AlarmDefinition): void {
  const d = validateAlarm(definition);
  const now = cw.clock.now();
  const existing = cw.alarms.get(d.AlarmName);
  cw.alarms.set(d.AlarmName, {
    definition: d,
    arn: `arn:aws:cloudwatch:${cw.region}:${cw.accountId}:alarm:${d.AlarmName}`,
    state: existing?.state ?? "INSUFFICIENT_DATA",
    stateReason: existing?.stateReason ?? "Unchecked: Initial alarm creation",
    stateUpdatedMs: existing?.stateUpdatedMs ?? now,
    configUpdatedMs: now,
    heldUntilMs: 0,
  });
}

function evaluateAlarms(cw: CloudWatch): AlarmStateChange[] {
  const now = cw.clock.now();
  const changes: AlarmStateChange[] = [];
  for (const alarm of cw.alarms.values()) {
    if (now < alarm.heldUntilMs) continue;
    const r = evaluate(cw.store, alarm, now);
    const change = setState(cw, alarm, r.state, r.reason, r.reasonData);
    if (change) changes.push(change);
  }
  return changes;
}

function setState(
  cw: CloudWatch,
  alarm: Alarm,
  state: AlarmState,
  reason: string,
  reasonData?: string,
): AlarmStateChange | undefined {
  const now = cw.clock.now();
  const from = alarm.state;
  alarm.stateReason = reason;
  alarm.stateReasonData = reasonData;
  if (from === state) return undefined;
  alarm.state = state;
  alarm.stateUpdatedMs = now;
  const change = { alarmName: alarm.definition.AlarmName, from, to: state, reason, atMs: now };
  for (const l of cw.listeners) {
    try {
      l(change);
    } catch {
      // A failing listener must not stop the evaluation of other alarms.
    }
  }
  return change;
}

function alarmOut(a: Alarm) {
  const d = a.definition;
  return {
    AlarmName: d.AlarmName,
    AlarmArn: a.arn,
    AlarmDescription: d.AlarmDescription,
    ActionsEnabled: d.ActionsEnabled ?? true,
    OKActions: d.OKActions ?? [],
    AlarmActions: d.AlarmActions ?? [],
    InsufficientDataActions: d.InsufficientDataActions ?? [],
    StateValue: a.state,
    StateReason: a.stateReason,
    StateReasonData: a.stateReasonData,
    StateUpdatedTimestamp: new Date(a.stateUpdatedMs),
    StateTransitionedTimestamp: new Date(a.stateUpdatedMs),
    AlarmConfigurationUpdatedTimestamp: new Date(a.configUpdatedMs),
    MetricName: d.MetricName,
    Namespace: d.Namespace,
    Statistic: d.Statistic,
    ExtendedStatistic: d.ExtendedStatistic,
    Dimensions: d.Dimensions ?? [],
    Period: d.Period,
    Unit: d.Unit,
    EvaluationPeriods: d.EvaluationPeriods,
    DatapointsToAlarm: d.DatapointsToAlarm,
    Threshold: d.Threshold,
    ComparisonOperator: d.ComparisonOperator,
    TreatMissingData: d.TreatMissingData,
  };
}

// --- dashboards -----------------------------------------------------------------------------------------------

const dashboardArn = (cw: CloudWatch, name: string) =>
  `arn:aws:cloudwatch::${cw.accountId}:dashboard/${name}`;

function putDashboard(cw: CloudWatch, input: Input): Record<string, unknown> {
  cw.dashboards.put(
    string(input.DashboardName, "DashboardName"),
    string(input.DashboardBody, "DashboardBody"),
    cw.clock.now(),
  );
  return { DashboardValidationMessages: [] };
}

function getDashboard(cw: CloudWatch, input: Input): Record<string, unknown> {
  const d = cw.dashboards.get(string(input.DashboardName, "DashboardName"));
  return { DashboardName: d.name, DashboardArn: dashboardArn(cw, d.name), DashboardBody: d.body };
}

function listDashboards(cw: CloudWatch, input: Input): Record<string, unknown> {
  const prefix =
    input.DashboardNamePrefix === undefined ? "" : string(input.DashboardNamePrefix, "DashboardNamePrefix");
  const page = paginate(cw.dashboards.list(prefix), input.NextToken, 1000);
  return {
    DashboardEntries: page.items.map((d) => ({
      DashboardName: d.name,
      DashboardArn: dashboardArn(cw, d.name),
      LastModified: new Date(d.lastModifiedMs),
      Size: Buffer.byteLength(d.body),
    })),
    ...nextToken(page.next),
  };
}

function deleteDashboards(cw: CloudWatch, input: Input): Record<string, unknown> {
  cw.dashboards.delete(strings(input.DashboardNames, "DashboardNames"));
  return {};
}
