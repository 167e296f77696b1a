import type { IncomingMessage, ServerResponse } from "node:http";
import type { FunctionPool } from "../pool.ts";

/** What every handler can see: the lab's identity and its function pools (by name). */
export interface LambdaApiContext {
  region: string;
  accountId: string;
  pools: ReadonlyMap<string, FunctionPool>;
  /** Reported as LastModified. */
  startedAt: Date;
}

/** One handler per operation. Throw a LambdaApiError to answer with an error; the router renders it. */
export type Handler = (
  req: IncomingMessage,
  res: ServerResponse,
  params: Record<string, string>,
  url: URL,
  ctx: LambdaApiContext,
) => Promise<void> | void;

export const labIdentity = (ctx: LambdaApiContext) => ({
  region: ctx.region,
  accountId: ctx.accountId,
  has: (name: string) => ctx.pools.has(name),
  hasAlias: (name: string, alias: string) => ctx.pools.get(name)?.spec.aliases?.includes(alias) ?? false,
});
