/**
 * The Resource Groups Tagging API's GetResources (awsJson1_1, POST / with X-Amz-Target), served for the lab's
 * functions: FIS resolves tag-selected targets with it, one paged call instead of ListTags per function.
 * TagFilters AND across keys, OR within a key's values; a key without values matches any value.
 */
import { LambdaApiError } from "../../errors.ts";
import type { Handler } from "../context.ts";
import { readBody, sendJson } from "../http.ts";

const TARGET_PREFIX = "ResourceGroupsTaggingAPI_20170126.";

class TaggingValidationError extends LambdaApiError {
  constructor(message: string) {
    super("InvalidParameterException", 400, message, "message");
  }
}

interface GetResourcesInput {
  TagFilters?: Array<{ Key?: string; Values?: string[] }>;
  ResourceTypeFilters?: string[];
  ResourceARNList?: string[];
  ResourcesPerPage?: number;
  PaginationToken?: string;
}

export const tagging: Handler = async (req, res, _params, _url, ctx) => {
  const target = String(req.headers["x-amz-target"] ?? "");
  const body = await readBody(req, 1024 * 1024);
  if (target !== `${TARGET_PREFIX}GetResources`) {
    throw new LambdaApiError(
      "UnknownOperationException",
      400,
      `The lab serves only GetResources of the tagging API, not ${target || "(no X-Amz-Target)"}`,
      "message",
    );
  }
  let raw: unknown;
  try {
    raw = body.length === 0 ? {} : JSON.parse(body.toString("utf8"));
  } catch {
    throw new TaggingValidationError("The request body is not JSON");
  }
  const input = validInput(raw);
  const perPage = input.ResourcesPerPage ?? 100;
  if (!Number.isInteger(perPage) || perPage < 1 || perPage > 100) {
    throw new TaggingValidationError("ResourcesPerPage must be between 1 and 100");
  }
  const types = input.ResourceTypeFilters ?? [];
  // The lab has only Lambda functions; a filter that names other types selects none of them.
  const wantsFunctions = types.length === 0 || types.some((t) => t === "lambda" || t === "lambda:function");
  const filters = input.TagFilters ?? [];
  const arns = input.ResourceARNList ? new Set(input.ResourceARNList) : undefined;
  const matching = !wantsFunctions
    ? []
    : [...ctx.pools.values()]
        .map((pool) => pool.spec)
        .filter((spec) => Object.keys(spec.tags).length > 0)
        .filter((spec) => !arns || arns.has(spec.arn))
        .filter((spec) =>
          filters.every((f) => {
            const value = f.Key === undefined ? undefined : spec.tags[f.Key];
            if (value === undefined) return false;
            return !f.Values || f.Values.length === 0 || f.Values.includes(value);
          }),
        )
        .sort((a, b) => (a.arn < b.arn ? -1 : 1));
  const start = input.PaginationToken ? decodeToken(input.PaginationToken) : 0;
  const page = matching.slice(start, start + perPage);
  const next = start + page.length;
  sendJson(
    res,
    200,
    {
      // An empty token, not an absent one, is how the service says "last page".
      PaginationToken: next < matching.length ? Buffer.from(`offset:${next}`).toString("base64") : "",
      ResourceTagMappingList: page.map((spec) => ({
        ResourceARN: spec.arn,
        Tags: Object.entries(spec.tags).map(([Key, Value]) => ({ Key, Value })),
      })),
    },
    { "content-type": "application/x-amz-json-1.1" },
  );
};

/** The members GetResources reads, checked against the model's types so no malformed body reaches the filter. */
function validInput(raw: unknown): GetResourcesInput {
  if (!isObject(raw)) throw new TaggingValidationError("The request body must be a JSON object");
  const strings = (v: unknown, field: string) => {
    if (v !== undefined && (!Array.isArray(v) || !v.every((x) => typeof x === "string")))
      throw new TaggingValidationError(`${field} must be a list of strings`);
  };
  if (raw.TagFilters !== undefined) {
    if (!Array.isArray(raw.TagFilters)) throw new TaggingValidationError("TagFilters must be a list");
    for (const [i, f] of raw.TagFilters.entries()) {
      if (!isObject(f)) throw new TaggingValidationError(`TagFilters[${i}] must be an object`);
      if (f.Key !== undefined && typeof f.Key !== "string")
        throw new TaggingValidationError(`TagFilters[${i}].Key must be a string`);
      strings(f.Values, `TagFilters[${i}].Values`);
    }
  }
  strings(raw.ResourceTypeFilters, "ResourceTypeFilters");
  strings(raw.ResourceARNList, "ResourceARNList");
  if (raw.PaginationToken !== undefined && typeof raw.PaginationToken !== "string")
    throw new TaggingValidationError("PaginationToken must be a string");
  return raw as GetResourcesInput;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function decodeToken(token: string): number {
  const match = /^offset:(\d+)$/.exec(Buffer.from(token, "base64").toString("utf8"));
  if (!match) throw new TaggingValidationError("Invalid PaginationToken");
  return Number(match[1]);
}
