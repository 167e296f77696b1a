/**
 * The lab's layer versions: every layer a function's config lists (a directory or a .zip) is version 1 of a
 * layer named after its file, the ARN FunctionConfiguration.Layers reports; PublishLayerVersion adds versions
 * (2, 3… after a config layer of the same name). Content is served back as a zip so that callers (the engine's
 * readiness check reads faultline/VERSION) see what Lambda's presigned URL gives.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { type Zippable, zipSync } from "fflate";
import { codeInfo, layerArnAt } from "./configuration.ts";
import { controlState, type LambdaApiContext, type PublishedLayer } from "./context.ts";

export interface LabLayer extends Omit<PublishedLayer, "createdAt"> {
  /** Absent for a layer from the lab's config: it was "published" when the lab started. */
  createdAt?: Date;
}

/**
 * Every layer version the lab knows, by version ARN: those some function's config uses (the first path wins when
 * two share a name) and the published ones, less the deleted ones.
 */
export function labLayers(ctx: LambdaApiContext): Map<string, LabLayer> {
  const state = controlState(ctx);
  const layers = new Map<string, LabLayer>();
  for (const pool of ctx.pools.values()) {
    pool.spec.layers.forEach((path, i) => {
      const versionArn = layerArnAt(pool.spec, i);
      if (layers.has(versionArn) || state.deleted.has(versionArn)) return;
      const parts = versionArn.split(":");
      layers.set(versionArn, { versionArn, name: parts[6]!, version: Number(parts[7]), path });
    });
  }
  for (const versions of state.published.values()) {
    for (const layer of versions) {
      if (!state.deleted.has(layer.versionArn)) layers.set(layer.versionArn, layer);
    }
  }
  return layers;
}

/** The highest version number `name` has had, deleted ones included (Lambda never reuses a number). */
export function latestVersion(ctx: LambdaApiContext, name: string): number {
  const state = controlState(ctx);
  let latest = 0;
  for (const arn of [...labLayers(ctx).keys(), ...state.deleted]) {
    const parts = arn.split(":");
    if (parts[6] === name) latest = Math.max(latest, Number(parts[7]));
  }
  return latest;
}

export function layerVersionBody(
  layer: LabLayer,
  contentUrl: string,
  createdAt: Date,
): Record<string, unknown> {
  const info = codeInfo(layer.path);
  return {
    Content: { Location: contentUrl, CodeSha256: info.sha256, CodeSize: info.size },
    LayerArn: layer.versionArn.replace(/:\d+$/, ""),
    LayerVersionArn: layer.versionArn,
    Description: layer.description ?? (layer.createdAt ? "" : `lab layer from ${layer.path}`),
    CreatedDate: (layer.createdAt ?? createdAt).toISOString().replace("Z", "+0000"),
    Version: layer.version,
    CompatibleRuntimes: layer.compatibleRuntimes ?? [],
    CompatibleArchitectures: layer.compatibleArchitectures ?? [],
    ...(layer.licenseInfo ? { LicenseInfo: layer.licenseInfo } : {}),
  };
}

/** Path of the content download the lab serves for a layer version. */
export function layerContentPath(layer: LabLayer): string {
  return `/faultline/layers/${encodeURIComponent(layer.name)}/versions/${layer.version}/content.zip`;
}

const zips = new Map<string, Buffer>();

/** The layer as a zip: a .zip is served as is, a directory is zipped once (keeping the executable bits). */
export function layerZip(layer: LabLayer): Buffer {
  if (!statSync(layer.path).isDirectory()) return readFileSync(layer.path);
  const cached = zips.get(layer.path);
  if (cached) return cached;
  const files: Zippable = {};
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) {
        const mode = statSync(full).mode & 0o777;
        // os 3 = Unix: the external attributes then carry the file mode, as `zip` writes it.
        files[relative(layer.path, full)] = [readFileSync(full), { os: 3, attrs: (0o100000 | mode) << 16 }];
      }
    }
  };
  walk(layer.path);
  const zip = Buffer.from(zipSync(files));
  zips.set(layer.path, zip);
  return zip;
}
