/** GetFunction: GET /2015-03-31/functions/{FunctionName}?Qualifier — configuration, code location, tags. */
import { pathToFileURL } from "node:url";
import { configurationOf } from "../configuration.ts";
import type { Handler } from "../context.ts";
import { labIdentity } from "../context.ts";
import { sendJson } from "../http.ts";
import { resolveFunctionName } from "../names.ts";

export const getFunction: Handler = (_req, res, params, url, ctx) => {
  const target = resolveFunctionName(params.name ?? "", url.searchParams.get("Qualifier"), labIdentity(ctx));
  const spec = ctx.pools.get(target.name)!.spec;
  const body: Record<string, unknown> = {
    Configuration: configurationOf(ctx, target.name),
    // The lab runs code from a directory, not an S3 package: the location says where.
    Code: { RepositoryType: "S3", Location: pathToFileURL(spec.codeDir).href },
    Tags: spec.tags,
  };
  if (spec.reservedConcurrency !== undefined) {
    body.Concurrency = { ReservedConcurrentExecutions: spec.reservedConcurrency };
  }
  sendJson(res, 200, body);
};
