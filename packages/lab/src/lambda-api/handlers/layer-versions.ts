/**
 * PublishLayerVersion: POST /2018-10-31/layers/{LayerName}/versions,
 * ListLayerVersions: GET /2018-10-31/layers/{LayerName}/versions?Marker&MaxItems&CompatibleRuntime&CompatibleArchitecture,
 * DeleteLayerVersion: DELETE /2018-10-31/layers/{LayerName}/versions/{VersionNumber}.
 * As on Lambda: versions count up from 1 and are never reused; deleting one leaves the functions that use it
 * running on their copy (https://docs.aws.amazon.com/lambda/latest/api/API_DeleteLayerVersion.html).
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { InvalidParameterValueError, LambdaApiError } from "../../errors.ts";
import { labWorkRoot } from "../../layers.ts";
import { lambdaTimestamp } from "../configuration.ts";
import { controlState, type Handler, type PublishedLayer } from "../context.ts";
import { header, readBody, sendJson } from "../http.ts";
import { labLayers, latestVersion, layerContentPath, layerVersionBody } from "../layers.ts";

/** A 50 MB zip, base64 in JSON (Lambda's limit for a direct upload). */
const MAX_BODY_BYTES = Math.ceil((50 * 1024 * 1024 * 4) / 3) + 64 * 1024;
const LAYER_NAME = /^(?:arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\d{12}:layer:)?([a-zA-Z0-9_-]{1,140})$/;

/** The bare layer name of a `LayerName` path parameter, which may also be the layer's ARN. */
function layerName(raw: string): string {
  const name = LAYER_NAME.exec(raw)?.[1];
  if (!name) {
    throw new InvalidParameterValueError(
      `1 validation error detected: Value '${raw}' at 'layerName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+`,
    );
  }
  return name;
}

interface PublishInput {
  Content?: { ZipFile?: string; S3Bucket?: string; S3Key?: string };
  Description?: string;
  CompatibleRuntimes?: string[];
  CompatibleArchitectures?: string[];
  LicenseInfo?: string;
}

export const publishLayerVersion: Handler = async (req, res, params, _url, ctx) => {
  const name = layerName(params.layer ?? "");
  const raw = await readBody(req, MAX_BODY_BYTES).catch((error: unknown) => {
    throw (error as Error).name === "RequestEntityTooLargeException"
      ? new LambdaApiError(
          "RequestEntityTooLargeException",
          413,
          `Request must be smaller than ${MAX_BODY_BYTES} bytes for the PublishLayerVersion operation`,
          "message",
        )
      : error;
  });
  let input: PublishInput;
  try {
    input = JSON.parse(raw.toString("utf8")) as PublishInput;
  } catch {
    throw new InvalidParameterValueError("Could not parse request body into json");
  }
  if (input.Content?.S3Bucket || input.Content?.S3Key) {
    throw new InvalidParameterValueError("The lab takes a layer's Content.ZipFile only, not S3Bucket/S3Key");
  }
  const zip = Buffer.from(input.Content?.ZipFile ?? "", "base64");
  if (zip.length === 0) throw new InvalidParameterValueError("Content.ZipFile is required");
  // A zip starts with a local file header (or, empty, with the end-of-central-directory record).
  if (zip.readUInt32LE(0) !== 0x04034b50 && zip.readUInt32LE(0) !== 0x06054b50) {
    throw new InvalidParameterValueError(
      "Could not unzip uploaded file. Please check your file, then try to upload again.",
    );
  }
  const version = latestVersion(ctx, name) + 1;
  const path = join(await labWorkRoot(), `published-layer-${name}-${version}.zip`);
  await writeFile(path, zip);
  const layer: PublishedLayer = {
    versionArn: `arn:aws:lambda:${ctx.region}:${ctx.accountId}:layer:${name}:${version}`,
    name,
    version,
    path,
    createdAt: new Date(),
    ...(input.Description !== undefined ? { description: input.Description } : {}),
    ...(input.CompatibleRuntimes ? { compatibleRuntimes: input.CompatibleRuntimes } : {}),
    ...(input.CompatibleArchitectures ? { compatibleArchitectures: input.CompatibleArchitectures } : {}),
    ...(input.LicenseInfo ? { licenseInfo: input.LicenseInfo } : {}),
  };
  const state = controlState(ctx);
  state.published.set(name, [...(state.published.get(name) ?? []), layer]);
  const base = `http://${header(req, "host") ?? "127.0.0.1"}`;
  sendJson(res, 201, layerVersionBody(layer, `${base}${layerContentPath(layer)}`, layer.createdAt));
};

export const listLayerVersions: Handler = (_req, res, params, url, ctx) => {
  const name = layerName(params.layer ?? "");
  const maxItems = Number(url.searchParams.get("MaxItems") ?? 50);
  if (!Number.isInteger(maxItems) || maxItems < 1 || maxItems > 50) {
    throw new InvalidParameterValueError("MaxItems must be an integer between 1 and 50");
  }
  const runtime = url.searchParams.get("CompatibleRuntime");
  const arch = url.searchParams.get("CompatibleArchitecture");
  // Newest first, as Lambda lists them.
  const versions = [...labLayers(ctx).values()]
    .filter((l) => l.name === name)
    .filter((l) => !runtime || (l.compatibleRuntimes ?? []).includes(runtime))
    .filter((l) => !arch || (l.compatibleArchitectures ?? []).includes(arch))
    .sort((a, b) => b.version - a.version);
  const start = Number(url.searchParams.get("Marker") ?? 0) || 0;
  const page = versions.slice(start, start + maxItems);
  const body: Record<string, unknown> = {
    LayerVersions: page.map((l) => {
      const {
        Content: _content,
        LayerArn: _arn,
        ...summary
      } = layerVersionBody(l, "", l.createdAt ?? ctx.startedAt);
      return { ...summary, CreatedDate: lambdaTimestamp(l.createdAt ?? ctx.startedAt) };
    }),
  };
  if (start + page.length < versions.length) body.NextMarker = String(start + page.length);
  sendJson(res, 200, body);
};

export const deleteLayerVersion: Handler = (_req, res, params, _url, ctx) => {
  const name = layerName(params.layer ?? "");
  const version = Number(params.version);
  const layer = [...labLayers(ctx).values()].find((l) => l.name === name && l.version === version);
  // Deleting a version that does not exist succeeds: the API reference lists no ResourceNotFoundException here.
  if (layer) controlState(ctx).deleted.add(layer.versionArn);
  res.writeHead(204).end();
};
