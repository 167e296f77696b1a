/** `aws:cloudwatch:alarm` stop conditions: which alarms are in ALARM, and the record of those that fired. */
import { DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";
import type { EngineContext } from "./context.ts";

/** The alarms (by ARN) in ALARM now. An alarm that does not exist is an error: it cannot guard anything. */
export async function alarmsInAlarm(ctx: EngineContext, arns: string[]): Promise<string[]> {
  const names = arns.map((arn) => arn.slice(arn.indexOf(":alarm:") + ":alarm:".length));
  const out = await ctx.cloudwatch().send(new DescribeAlarmsCommand({ AlarmNames: names }));
  const found = [...(out.MetricAlarms ?? []), ...(out.CompositeAlarms ?? [])];
  const missing = names.filter((n) => !found.some((a) => a.AlarmName === n));
  if (missing.length > 0) throw new Error(`alarm not found: ${missing.join(", ")}`);
  return found.filter((a) => a.StateValue === "ALARM").map((a) => a.AlarmArn ?? a.AlarmName ?? "?");
}

/** Records stop conditions that fired (or could not be read), for the report. */
export function recordStopCondition(
  ctx: EngineContext,
  experimentId: string,
  sources: string[],
  state: string,
  reason: string,
): void {
  const time = new Date(ctx.clock.now());
  for (const source of sources)
    ctx.store.addStopConditionEvent(experimentId, { time, source, state, reason });
}

/** The alarm ARNs among an experiment's stop conditions. */
export function alarmArns(stopConditions: { source: string; value?: string }[]): string[] {
  return stopConditions.filter((s) => s.source === "aws:cloudwatch:alarm").map((s) => s.value!);
}
