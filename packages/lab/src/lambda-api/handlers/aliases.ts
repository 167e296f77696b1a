/**
 * ListAliases: GET /2015-03-31/functions/{FunctionName}/aliases, and
 * GetAlias: GET /2015-03-31/functions/{FunctionName}/aliases/{Name}.
 * The lab's aliases come from the config and all point at $LATEST, its only version.
 */
import type { FunctionSpec } from "../../contract.ts";
import { ResourceNotFoundError } from "../../errors.ts";
import type { Handler } from "../context.ts";
import { labIdentity } from "../context.ts";
import { sendJson } from "../http.ts";
import { resolveFunctionName } from "../names.ts";

function aliasConfiguration(spec: FunctionSpec, name: string): Record<string, unknown> {
  return {
    AliasArn: `${spec.arn}:${name}`,
    Name: name,
    FunctionVersion: "$LATEST",
    Description: "",
    RevisionId: "00000000-0000-0000-0000-000000000000",
  };
}

export const listAliases: Handler = (_req, res, params, _url, ctx) => {
  const target = resolveFunctionName(params.name ?? "", null, labIdentity(ctx));
  const spec = ctx.pools.get(target.name)!.spec;
  sendJson(res, 200, { Aliases: (spec.aliases ?? []).map((alias) => aliasConfiguration(spec, alias)) });
};

export const getAlias: Handler = (_req, res, params, _url, ctx) => {
  const target = resolveFunctionName(params.name ?? "", null, labIdentity(ctx));
  const spec = ctx.pools.get(target.name)!.spec;
  const alias = params.alias ?? "";
  if (!spec.aliases?.includes(alias)) {
    throw new ResourceNotFoundError(`Cannot find alias arn: ${spec.arn}:${alias}`);
  }
  sendJson(res, 200, aliasConfiguration(spec, alias));
};
