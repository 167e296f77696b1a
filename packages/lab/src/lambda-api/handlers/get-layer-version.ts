/**
 * GetLayerVersionByArn: GET /2018-10-31/layers?find=LayerVersion&Arn={arn}, and
 * GetLayerVersion: GET /2018-10-31/layers/{LayerName}/versions/{VersionNumber}.
 * Content.Location points back at this server (Lambda gives a presigned S3 URL; any HTTP GET works the same).
 */
import type { IncomingMessage } from "node:http";
import { InvalidParameterValueError, ResourceNotFoundError } from "../../errors.ts";
import type { Handler, LambdaApiContext } from "../context.ts";
import { header, sendJson } from "../http.ts";
import { type LabLayer, labLayers, layerContentPath, layerVersionBody } from "../layers.ts";

const LAYER_VERSION_ARN =
  /^arn:aws[a-zA-Z-]*:lambda:[a-z]{2}(?:-gov)?-[a-z]+-\d:\d{12}:layer:[a-zA-Z0-9_-]+:\d+$/;

export const getLayerVersionByArn: Handler = (req, res, _params, url, ctx) => {
  if (url.searchParams.get("find") !== "LayerVersion") {
    throw new InvalidParameterValueError("find must be LayerVersion");
  }
  const arn = url.searchParams.get("Arn") ?? "";
  if (!LAYER_VERSION_ARN.test(arn)) {
    throw new InvalidParameterValueError(
      `1 validation error detected: Value '${arn}' at 'arn' failed to satisfy constraint: Member must be a layer version ARN`,
    );
  }
  send(req, res, ctx, labLayers(ctx).get(arn), arn);
};

export const getLayerVersion: Handler = (req, res, params, _url, ctx) => {
  const name = params.layer ?? "";
  const version = Number(params.version);
  const layer = [...labLayers(ctx).values()].find(
    (l) => (l.name === name || l.versionArn.replace(/:\d+$/, "") === name) && l.version === version,
  );
  send(req, res, ctx, layer, `${name}:${params.version}`);
};

function send(
  req: IncomingMessage,
  res: Parameters<Handler>[1],
  ctx: LambdaApiContext,
  layer: LabLayer | undefined,
  asked: string,
): void {
  if (!layer) throw new ResourceNotFoundError(`Layer version ${asked} does not exist.`);
  const base = `http://${header(req, "host") ?? "127.0.0.1"}`;
  sendJson(res, 200, layerVersionBody(layer, `${base}${layerContentPath(layer)}`, ctx.startedAt));
}
