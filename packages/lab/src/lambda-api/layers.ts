/**
 * The lab's layer versions: every layer a function lists (a directory or a .zip) is published as version 1 of a
 * layer named after its file, the ARN FunctionConfiguration.Layers reports. Content is served back as a zip so
 * that callers (the engine's readiness check reads faultline/VERSION) see what Lambda's presigned URL gives.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { type Zippable, zipSync } from "fflate";
import { codeInfo, layerArn } from "./configuration.ts";
import type { LambdaApiContext } from "./context.ts";

export interface LabLayer {
  /** arn:aws:lambda:<region>:<account>:layer:<name>:1 */
  versionArn: string;
  name: string;
  version: number;
  path: string;
}

/** Every layer some function uses, by version ARN. The first path wins when two share a name. */
export function labLayers(ctx: LambdaApiContext): Map<string, LabLayer> {
  const layers = new Map<string, LabLayer>();
  for (const pool of ctx.pools.values()) {
    for (const path of pool.spec.layers) {
      const versionArn = layerArn(pool.spec, path);
      if (layers.has(versionArn)) continue;
      const parts = versionArn.split(":");
      layers.set(versionArn, { versionArn, name: parts[6]!, version: Number(parts[7]), path });
    }
  }
  return layers;
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
    Description: `lab layer from ${layer.path}`,
    CreatedDate: createdAt.toISOString().replace("Z", "+0000"),
    Version: layer.version,
    CompatibleRuntimes: [],
    CompatibleArchitectures: [],
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
