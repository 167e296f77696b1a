/** What the console's lab page shows, read from the running lab (the API package never imports the lab). */
import type { LabSnapshot, LabView } from "@faultline/api";
import type { InvocationRecord, Lab } from "@faultline/lab";

/** Invocations kept for the lab page, most recent last. */
const KEPT = 50;

export function labView(lab: Lab): LabView & { close(): void } {
  const recent: InvocationRecord[] = [];
  const unsubscribe = lab.onInvocation((r) => {
    recent.push(r);
    if (recent.length > KEPT) recent.shift();
  });
  return {
    snapshot(): LabSnapshot {
      return {
        functions: lab.config.functions.map((fn) => {
          const stats = lab.pool(fn.name)?.stats();
          return {
            name: fn.name,
            arn: fn.arn,
            runtime: fn.runtime,
            tags: fn.tags,
            environments: stats?.environments ?? 0,
            busy: stats?.busy ?? 0,
            idle: stats?.idle ?? 0,
            created: stats?.created ?? 0,
          };
        }),
        invocations: recent
          .map((r) => ({
            functionName: r.functionName,
            startMs: r.startMs,
            durationMs: r.durationMs,
            outcome: r.throttled
              ? ("throttled" as const)
              : r.error
                ? ("error" as const)
                : ("success" as const),
            coldStart: r.initDurationMs !== undefined,
          }))
          .reverse(),
      };
    },
    close: unsubscribe,
  };
}
