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
import { DashboardStore } from "./dashboards.ts";
import { CloudWatchApiError, MetricInputError } from "./errors.ts";
import { decodeRequest, protocolOf, render } from "./protocols.ts";
import { parseStatistic } from "./statistics.ts";
import type { MetricId, MetricStore } from "./store.ts";
import { isStandardUnit, type StandardUnit } from "./units.ts";

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

type Input = Record<string, unknown>;
type Handler = (input: Input) => Record<string, unknown>;

export function createCloudWatchService(
  store: MetricStore,
  clock: CloudWatchClock = { now: () => Date.now() },
  options: CloudWatchServiceOptions = {},
): CloudWatchService {
  const region = options.region ?? "us-east-1";
  const accountId = options.accountId ?? "123456789012";
  const maxBody = options.maxBodyBytes ?? 2 * 1024 * 1024;
  const alarms = new Map<string, Alarm>();
  const dashboards = new DashboardStore();
  const listeners = new Set<(c: AlarmStateChange) => void>();
  const alarmArn = (name: string) => `arn:aws:cloudwatch:${region}:${accountId}:alarm:${name}`;
  const dashboardArn = (name: string) => `arn:aws:cloudwatch::${accountId}:dashboard/${name}`;

  function setState(
    alarm: Alarm,
    state: AlarmState,
    reason: string,
    reasonData?: string,
  ): AlarmStateChange | undefined {
    const now = clock.now();
    const from = alarm.state;
    alarm.stateReason = reason;
    alarm.stateReasonData = reasonData;
    if (from === state) return undefined;
    alarm.state = state;
    alarm.stateUpdatedMs = now;
    const change = { alarmName: alarm.definition.AlarmName, from, to: state, reason, atMs: now };
    for (const l of listeners) {
      try {
        l(change);
      } catch {
        // A failing listener must not stop the evaluation of other alarms.
      }
    }
    return change;
  }

  function evaluateAlarms(): AlarmStateChange[] {
    const now = clock.now();
    const changes: AlarmStateChange[] = [];
    for (const alarm of alarms.values()) {
      if (now < alarm.heldUntilMs) continue;
      const r = evaluate(store, alarm, now);
      const change = setState(alarm, r.state, r.reason, r.reasonData);
      if (change) changes.push(change);
    }
    return changes;
  }

  function putAlarm(definition: AlarmDefinition): void {
    const d = validateAlarm(definition);
    const now = clock.now();
    const existing = alarms.get(d.AlarmName);
    alarms.set(d.AlarmName, {
      definition: d,
      arn: alarmArn(d.AlarmName),
      state: existing?.state ?? "INSUFFICIENT_DATA",
      stateReason: existing?.stateReason ?? "Unchecked: Initial alarm creation",
      stateUpdatedMs: existing?.stateUpdatedMs ?? now,
      configUpdatedMs: now,
      heldUntilMs: 0,
    });
  }

  const alarmOut = (a: Alarm) => {
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
  };

  const routes: Record<string, Handler> = {
    GetMetricData(input) {
      const start = time(input.StartTime, "StartTime");
      const end = time(input.EndTime, "EndTime");
      const queries = list(input.MetricDataQueries, "MetricDataQueries");
      if (queries.length === 0 || queries.length > 500) {
        throw invalidValue("MetricDataQueries", "must hold 1–500 queries");
      }
      const descending = (input.ScanBy ?? "TimestampDescending") === "TimestampDescending";
      const results = queries.map((raw, i) => {
        const field = `MetricDataQueries[${i}]`;
        const q = object(raw, field);
        const id = string(q.Id, `${field}.Id`);
        if (!/^[a-z][a-zA-Z0-9_]*$/.test(id)) {
          throw invalidValue(`${field}.Id`, "must start with a lowercase letter, then letters, digits or _");
        }
        if (q.Expression !== undefined) {
          throw invalidValue(
            `${field}.Expression`,
            "metric math is not supported by the lab; use MetricStat",
          );
        }
        const ms = object(q.MetricStat, `${field}.MetricStat`);
        const metric = metricId(
          object(ms.Metric, `${field}.MetricStat.Metric`),
          `${field}.MetricStat.Metric`,
        );
        const period = int(ms.Period, `${field}.MetricStat.Period`);
        const stat = string(ms.Stat, `${field}.MetricStat.Stat`);
        const series = query(
          metric,
          period,
          stat,
          unit(ms.Unit, `${field}.MetricStat.Unit`),
          start,
          end,
          `${field}.MetricStat`,
        );
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
      });
      return {
        MetricDataResults: results.filter((r) => r.ReturnData !== false).map(({ ReturnData: _, ...r }) => r),
        Messages: [],
      };
    },

    GetMetricStatistics(input) {
      const metric = metricId(input, "");
      const start = time(input.StartTime, "StartTime");
      const end = time(input.EndTime, "EndTime");
      const period = int(input.Period, "Period");
      const u = unit(input.Unit, "Unit");
      const stats =
        input.Statistics === undefined
          ? []
          : list(input.Statistics, "Statistics").map((s, i) => string(s, `Statistics[${i}]`));
      const extended =
        input.ExtendedStatistics === undefined
          ? []
          : list(input.ExtendedStatistics, "ExtendedStatistics").map((s, i) =>
              string(s, `ExtendedStatistics[${i}]`),
            );
      if (stats.length + extended.length === 0) {
        throw new CloudWatchApiError("MissingParameter", 400, "Statistics or ExtendedStatistics is required");
      }
      const byTime = new Map<number, Record<string, unknown>>();
      const point = (t: number) => {
        let p = byTime.get(t);
        if (!p) {
          p = { Timestamp: new Date(t), Unit: u ?? store.unitsOf(metric)[0] ?? "None" };
          byTime.set(t, p);
        }
        return p;
      };
      for (const [i, s] of stats.entries()) {
        if (parseStatistic(s, `Statistics[${i}]`).kind === "percentile") {
          throw invalidValue(`Statistics[${i}]`, "percentiles go in ExtendedStatistics");
        }
        const series = query(metric, period, s, u, start, end, "");
        series.timestamps.forEach((t, j) => {
          point(t)[s] = series.values[j];
        });
      }
      for (const [i, s] of extended.entries()) {
        if (parseStatistic(s, `ExtendedStatistics[${i}]`).kind !== "percentile") {
          throw invalidValue(`ExtendedStatistics[${i}]`, "must be a percentile (pNN)");
        }
        const series = query(metric, period, s, u, start, end, "");
        series.timestamps.forEach((t, j) => {
          const p = point(t);
          p.ExtendedStatistics = { ...(p.ExtendedStatistics as object), [s]: series.values[j] };
        });
      }
      return { Label: metric.metricName, Datapoints: [...byTime.values()] };
    },

    PutMetricData(input) {
      const namespace = string(input.Namespace, "Namespace");
      if (namespace.startsWith("AWS/")) {
        throw invalidValue("Namespace", `"${namespace}" is reserved for AWS services`);
      }
      const data = list(input.MetricData, "MetricData");
      if (data.length > 1000) throw invalidValue("MetricData", "at most 1000 items per request");
      const now = clock.now();
      // Validate everything first: one bad item refuses the whole request, as CloudWatch does.
      const puts: (() => void)[] = [];
      for (const [i, raw] of data.entries()) {
        const field = `MetricData[${i}]`;
        const m = object(raw, field);
        const id = metricId({ ...m, Namespace: namespace }, field);
        const ts = m.Timestamp === undefined ? now : time(m.Timestamp, `${field}.Timestamp`);
        const u = unit(m.Unit, `${field}.Unit`) ?? "None";
        if (m.Value !== undefined) {
          const value = num(m.Value, `${field}.Value`);
          puts.push(() => store.put({ ...id, value, unit: u, timestamp: ts }));
        } else if (m.Values !== undefined) {
          const values = list(m.Values, `${field}.Values`).map((v, j) => num(v, `${field}.Values[${j}]`));
          const counts =
            m.Counts === undefined
              ? values.map(() => 1)
              : list(m.Counts, `${field}.Counts`).map((v, j) => num(v, `${field}.Counts[${j}]`));
          if (counts.length !== values.length)
            throw invalidValue(`${field}.Counts`, "must be as long as Values");
          puts.push(() => {
            values.forEach((value, j) => {
              for (let k = 0; k < Math.min(counts[j]!, 10_000); k++)
                store.put({ ...id, value, unit: u, timestamp: ts });
            });
          });
        } else if (m.StatisticValues !== undefined) {
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
          puts.push(() => store.putStatistics(id, set, u, ts));
        } else {
          throw new CloudWatchApiError(
            "MissingParameter",
            400,
            `${field}: one of Value, Values or StatisticValues is required`,
          );
        }
      }
      for (const put of puts) put();
      return {};
    },

    ListMetrics(input) {
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
      const all = store.list({
        ...(input.Namespace === undefined ? {} : { namespace: string(input.Namespace, "Namespace") }),
        ...(input.MetricName === undefined ? {} : { metricName: string(input.MetricName, "MetricName") }),
        dimensions: dims,
        ...(input.RecentlyActive === undefined ? {} : { sinceMs: clock.now() - 3 * 3600_000 }),
      });
      const page = paginate(all, input.NextToken, 500);
      return {
        Metrics: page.items.map((m) => ({
          Namespace: m.namespace,
          MetricName: m.metricName,
          Dimensions: Object.entries(m.dimensions).map(([Name, Value]) => ({ Name, Value })),
        })),
        ...(page.next === undefined ? {} : { NextToken: page.next }),
      };
    },

    PutMetricAlarm(input) {
      if (input.Metrics !== undefined)
        throw invalidValue("Metrics", "metric math alarms are not supported by the lab");
      try {
        putAlarm(input as unknown as AlarmDefinition);
      } catch (e) {
        if (e instanceof MetricInputError) throw invalidValue(e.field, e.message.slice(e.field.length + 2));
        throw e;
      }
      return {};
    },

    DescribeAlarms(input) {
      // Alarms are evaluated on read too, so a reader never sees a state older than the data.
      evaluateAlarms();
      const names =
        input.AlarmNames === undefined
          ? undefined
          : list(input.AlarmNames, "AlarmNames").map((n, i) => string(n, `AlarmNames[${i}]`));
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
      const matching = [...alarms.values()]
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
        ...(page.next === undefined ? {} : { NextToken: page.next }),
      };
    },

    SetAlarmState(input) {
      const name = string(input.AlarmName, "AlarmName");
      const state = string(input.StateValue, "StateValue");
      if (!ALARM_STATES.includes(state as AlarmState)) {
        throw invalidValue("StateValue", "must be OK, ALARM or INSUFFICIENT_DATA");
      }
      const reason = string(input.StateReason, "StateReason");
      const alarm = alarms.get(name);
      if (!alarm) throw new CloudWatchApiError("ResourceNotFound", 404, `Alarm ${name} does not exist`);
      alarm.heldUntilMs = clock.now() + alarm.definition.Period * 1000;
      setState(alarm, state as AlarmState, reason, input.StateReasonData as string | undefined);
      return {};
    },

    DeleteAlarms(input) {
      const names = list(input.AlarmNames, "AlarmNames").map((n, i) => string(n, `AlarmNames[${i}]`));
      const missing = names.filter((n) => !alarms.has(n));
      if (missing.length > 0) {
        throw new CloudWatchApiError("ResourceNotFound", 404, `Alarms not found: ${missing.join(", ")}`);
      }
      for (const n of names) alarms.delete(n);
      return {};
    },

    PutDashboard(input) {
      dashboards.put(
        string(input.DashboardName, "DashboardName"),
        string(input.DashboardBody, "DashboardBody"),
        clock.now(),
      );
      return { DashboardValidationMessages: [] };
    },

    GetDashboard(input) {
      const d = dashboards.get(string(input.DashboardName, "DashboardName"));
      return { DashboardName: d.name, DashboardArn: dashboardArn(d.name), DashboardBody: d.body };
    },

    ListDashboards(input) {
      const prefix =
        input.DashboardNamePrefix === undefined
          ? ""
          : string(input.DashboardNamePrefix, "DashboardNamePrefix");
      const page = paginate(dashboards.list(prefix), input.NextToken, 1000);
      return {
        DashboardEntries: page.items.map((d) => ({
          DashboardName: d.name,
          DashboardArn: dashboardArn(d.name),
          LastModified: new Date(d.lastModifiedMs),
          Size: Buffer.byteLength(d.body),
        })),
        ...(page.next === undefined ? {} : { NextToken: page.next }),
      };
    },

    DeleteDashboards(input) {
      dashboards.delete(
        list(input.DashboardNames, "DashboardNames").map((n, i) => string(n, `DashboardNames[${i}]`)),
      );
      return {};
    },
  };

  function call(operation: string, input: Input): Record<string, unknown> {
    const handler = Object.hasOwn(routes, operation) ? routes[operation] : undefined;
    if (!handler) {
      throw new CloudWatchApiError(
        "UnknownOperationException",
        400,
        `operation ${operation} is not supported by the lab`,
      );
    }
    try {
      return handler(input);
    } catch (e) {
      if (e instanceof MetricInputError) throw invalidValue(e.field, e.message.slice(e.field.length + 2));
      throw e;
    }
  }

  /** Answers one request; a rejection is a lab bug (every caller error is rendered here), left to the guard. */
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
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
      outcome = call(operation, decoded.input);
    } catch (e) {
      if (!(e instanceof CloudWatchApiError)) throw e;
      outcome = e;
    }
    render(res, protocol, operation, outcome);
  }

  return {
    handle,
    call,
    evaluateAlarms,
    putAlarm,
    putDashboard: (name, body) =>
      dashboards.put(name, typeof body === "string" ? body : JSON.stringify(body), clock.now()),
    alarm: (name) => alarms.get(name),
    onAlarmStateChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    store,
    dashboards,
  };

  function query(
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
    return store.query({ metric, period, stat, ...(u ? { unit: u } : {}) }, start, end);
  }
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

function paginate<T>(items: T[], token: unknown, size: number): { items: T[]; next?: string } {
  const offset = token === undefined ? 0 : Number(token);
  if (!Number.isInteger(offset) || offset < 0)
    throw new CloudWatchApiError("InvalidNextToken", 400, "NextToken is invalid");
  const page = items.slice(offset, offset + size);
  return offset + size < items.length ? { items: page, next: String(offset + size) } : { items: page };
}

function invalidValue(field: string, message: string): CloudWatchApiError {
  return new CloudWatchApiError("InvalidParameterValue", 400, `The parameter ${field} ${message}`);
}

function object(v: unknown, field: string): Input {
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    if (v === undefined)
      throw new CloudWatchApiError("MissingParameter", 400, `The parameter ${field} is required.`);
    throw invalidValue(field, "must be an object");
  }
  return v as Input;
}

function list(v: unknown, field: string): unknown[] {
  if (v === undefined)
    throw new CloudWatchApiError("MissingParameter", 400, `The parameter ${field} is required.`);
  if (!Array.isArray(v)) throw invalidValue(field, "must be a list");
  return v;
}

function string(v: unknown, field: string): string {
  if (v === undefined)
    throw new CloudWatchApiError("MissingParameter", 400, `The parameter ${field} is required.`);
  if (typeof v !== "string") throw invalidValue(field, "must be a string");
  return v;
}

function num(v: unknown, field: string): number {
  if (v === undefined)
    throw new CloudWatchApiError("MissingParameter", 400, `The parameter ${field} is required.`);
  if (typeof v !== "number" || !Number.isFinite(v)) throw invalidValue(field, "must be a number");
  return v;
}

function int(v: unknown, field: string): number {
  const n = num(v, field);
  if (!Number.isInteger(n)) throw invalidValue(field, "must be a whole number");
  return n;
}

/** Epoch seconds (awsJson, fractions allowed), Dates (CBOR tag 1) or ISO strings (awsQuery). */
function time(v: unknown, field: string): number {
  if (v instanceof Date && !Number.isNaN(v.getTime())) return v.getTime();
  if (typeof v === "number" && Number.isFinite(v)) return Math.round(v * 1000);
  if (typeof v === "string" && !Number.isNaN(Date.parse(v))) return Date.parse(v);
  if (v === undefined)
    throw new CloudWatchApiError("MissingParameter", 400, `The parameter ${field} is required.`);
  throw invalidValue(field, "must be a timestamp");
}

function unit(v: unknown, field: string): StandardUnit | undefined {
  if (v === undefined) return undefined;
  if (!isStandardUnit(v)) throw invalidValue(field, `"${String(v)}" is not a CloudWatch unit`);
  return v;
}

function metricId(m: Input, field: string): MetricId {
  const at = (f: string) => (field ? `${field}.${f}` : f);
  const dimensions: Record<string, string> = {};
  if (m.Dimensions !== undefined) {
    for (const [i, raw] of list(m.Dimensions, at("Dimensions")).entries()) {
      const d = object(raw, at(`Dimensions[${i}]`));
      dimensions[string(d.Name, at(`Dimensions[${i}].Name`))] = string(d.Value, at(`Dimensions[${i}].Value`));
    }
  }
  return {
    namespace: string(m.Namespace, at("Namespace")),
    metricName: string(m.MetricName, at("MetricName")),
    dimensions,
  };
}
