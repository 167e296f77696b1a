/** The download behind a layer version's Content.Location: the layer as a zip. */
import { ResourceNotFoundError } from "../../errors.ts";
import type { Handler } from "../context.ts";
import { labLayers, layerZip } from "../layers.ts";

export const getLayerContent: Handler = (_req, res, params, _url, ctx) => {
  const version = Number(params.version);
  const layer = [...labLayers(ctx).values()].find((l) => l.name === params.layer && l.version === version);
  if (!layer)
    throw new ResourceNotFoundError(`Layer version ${params.layer}:${params.version} does not exist.`);
  const zip = layerZip(layer);
  res.writeHead(200, { "content-type": "application/zip", "content-length": zip.length });
  res.end(zip);
};
