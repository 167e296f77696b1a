/** What every engine module shares: the store, the clock, the event bus, the account, bounded AWS clients. */
import type { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import type { Clock } from "./clock.ts";
import type { EngineEvents } from "./events.ts";
import type { Account } from "./ids.ts";
import type { Store } from "./store.ts";

export interface EngineContext {
  readonly store: Store;
  readonly clock: Clock;
  readonly account: Account;
  readonly events: EngineEvents;
  /** Operational messages (cleanup failures and the like). */
  readonly say: (message: string) => void;
  /** Parallel AWS calls during resolution and fault writes. */
  readonly concurrency: number;
  /** Aborted when close() runs out of time: every AWS call and delete retry of the engine ends. */
  readonly shutdown: AbortSignal;
  /** True once close() has closed the store. */
  closed(): boolean;
  /** A view of an SDK client whose calls end within the call timeout, at shutdown, or when `signals` abort. */
  bounded<C extends { send(command: never, options?: never): Promise<unknown> }>(
    client: C,
    ...signals: AbortSignal[]
  ): C;
  /** The CloudWatch client (built on first use), bounded. */
  cloudwatch(): CloudWatchClient;
}

/** A write on the way to removing faults: a failure (a full disk) is logged and never stops the cleanup. */
export function bestEffort(ctx: EngineContext, what: string, write: () => void): void {
  try {
    write();
  } catch (error) {
    ctx.say(`cannot ${what}: ${(error as Error).message}; carrying on`);
  }
}
