/** ListTags: GET /2017-03-31/tags/{ARN} — the resource must be a full, unqualified function ARN. */
import { InvalidParameterValueError } from "../../errors.ts";
import type { Handler } from "../context.ts";
import { labIdentity } from "../context.ts";
import { sendJson } from "../http.ts";
import { resolveFunctionName } from "../names.ts";

export const listTags: Handler = (_req, res, params, _url, ctx) => {
  const arn = params.arn ?? "";
  if (!arn.startsWith("arn:"))
    throw new InvalidParameterValueError(`Resource must be a function ARN: ${arn}`);
  const target = resolveFunctionName(arn, null, labIdentity(ctx));
  if (target.qualifier) {
    throw new InvalidParameterValueError("Tags are not supported on function versions or aliases.");
  }
  sendJson(res, 200, { Tags: ctx.pools.get(target.name)!.spec.tags });
};
