/** ListFunctions: GET /2015-03-31/functions/?Marker&MaxItems — sorted by name, Marker is an opaque offset. */
import { InvalidParameterValueError } from "../../errors.ts";
import { configurationOf } from "../configuration.ts";
import type { Handler } from "../context.ts";
import { sendJson } from "../http.ts";

const MAX_ITEMS = 50;

export const listFunctions: Handler = (_req, res, _params, url, ctx) => {
  const maxItemsParam = url.searchParams.get("MaxItems");
  const maxItems = maxItemsParam === null ? MAX_ITEMS : Number(maxItemsParam);
  if (!Number.isInteger(maxItems) || maxItems < 1 || maxItems > 10000) {
    throw new InvalidParameterValueError("MaxItems must be an integer between 1 and 10000");
  }
  const marker = url.searchParams.get("Marker");
  const start = marker === null ? 0 : decodeMarker(marker);
  const names = [...ctx.pools.keys()].sort();
  const page = names.slice(start, start + Math.min(maxItems, MAX_ITEMS));
  const body: Record<string, unknown> = {
    Functions: page.map((name) => configurationOf(ctx, name)),
  };
  const next = start + page.length;
  if (next < names.length) body.NextMarker = Buffer.from(`offset:${next}`).toString("base64");
  sendJson(res, 200, body);
};

function decodeMarker(marker: string): number {
  const match = /^offset:(\d+)$/.exec(Buffer.from(marker, "base64").toString("utf8"));
  if (!match) throw new InvalidParameterValueError("Invalid Marker");
  return Number(match[1]);
}
