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

/** What the control plane changes at run time: published layer versions and function updates. */
export interface ControlState {
  /** Published layer versions by layer name, oldest first. */
  published: Map<string, PublishedLayer[]>;
  /** Layer version ARNs removed with DeleteLayerVersion (functions using them keep their copy, as on Lambda). */
  deleted: Set<string>;
  /** Per function, after an UpdateFunctionConfiguration. */
  updates: Map<string, { revisionId: string; lastModified: Date }>;
}

export interface PublishedLayer {
  versionArn: string;
  name: string;
  version: number;
  /** The zip, as uploaded. */
  path: string;
  createdAt: Date;
  description?: string;
  compatibleRuntimes?: string[];
  compatibleArchitectures?: string[];
  licenseInfo?: string;
}

const states = new WeakMap<LambdaApiContext, ControlState>();

export function controlState(ctx: LambdaApiContext): ControlState {
  let state = states.get(ctx);
  if (!state) {
    state = { published: new Map(), deleted: new Set(), updates: new Map() };
    states.set(ctx, state);
  }
  return state;
}

export const labIdentity = (ctx: LambdaApiContext) => ({
  region: ctx.region,
  accountId: ctx.accountId,
  has: (name: string) => ctx.pools.has(name),
  hasAlias: (name: string, alias: string) => ctx.pools.get(name)?.spec.aliases?.includes(alias) ?? false,
});
