/**
 * Which faultline extension a function would run: the version file (faultline/VERSION) inside its layer, read
 * through GetLayerVersionByArn and the layer's Content.Location — the same calls against the lab and AWS.
 * Layer versions are immutable, so a finding is kept for the life of the engine; a failed lookup is not.
 */
import { GetLayerVersionByArnCommand, type LambdaClient } from "@aws-sdk/client-lambda";
import { unzipSync } from "fflate";
import semver from "semver";

export const VERSION_FILE = "faultline/VERSION";

export type LayerFinding =
  | { kind: "version"; version: string }
  /** The layer has no faultline/VERSION: not a layer `faultline layer build` made. */
  | { kind: "no-version-file" }
  /** Could not look (no permission, no such layer, network): says nothing about readiness. */
  | { kind: "unknown"; reason: string };

/** Largest layer zip the probe downloads (Lambda's own limit for a zipped layer is 50 MB). */
const MAX_LAYER_BYTES = 64 * 1024 * 1024;

export class ExtensionVersionProbe {
  private readonly found = new Map<string, Promise<LayerFinding>>();

  constructor(
    private readonly lambda: LambdaClient,
    private readonly timeoutMs = 10_000,
  ) {}

  probe(layerVersionArn: string): Promise<LayerFinding> {
    let finding = this.found.get(layerVersionArn);
    if (!finding) {
      finding = this.read(layerVersionArn);
      this.found.set(layerVersionArn, finding);
      finding.then((f) => {
        if (f.kind === "unknown") this.found.delete(layerVersionArn);
      });
    }
    return finding;
  }

  private async read(arn: string): Promise<LayerFinding> {
    try {
      const layer = await this.lambda.send(new GetLayerVersionByArnCommand({ Arn: arn }));
      const location = layer.Content?.Location;
      if (!location)
        return { kind: "unknown", reason: `GetLayerVersionByArn gave no Content.Location for ${arn}` };
      const res = await fetch(location, { signal: AbortSignal.timeout(this.timeoutMs) });
      if (!res.ok) return { kind: "unknown", reason: `downloading layer ${arn} answered HTTP ${res.status}` };
      const size = Number(res.headers.get("content-length") ?? 0);
      if (size > MAX_LAYER_BYTES)
        return { kind: "unknown", reason: `layer ${arn} is larger than ${MAX_LAYER_BYTES} bytes` };
      const zip = new Uint8Array(await res.arrayBuffer());
      const files = unzipSync(zip, { filter: (file) => file.name === VERSION_FILE });
      const file = files[VERSION_FILE];
      if (!file) return { kind: "no-version-file" };
      return { kind: "version", version: new TextDecoder().decode(file).trim() };
    } catch (error) {
      return { kind: "unknown", reason: `cannot read layer ${arn}: ${(error as Error).message}` };
    }
  }
}

/**
 * Orders versions by Semantic Versioning precedence (`1.0.0-rc.2` < `1.0.0-rc.10` < `1.0.0`). A version that is
 * not semver sorts before every one that is: an unreadable version file is treated as an old extension.
 */
export function compareVersions(a: string, b: string): number {
  const va = semver.parse(a.trim(), { loose: true });
  const vb = semver.parse(b.trim(), { loose: true });
  if (va && vb) return semver.compare(va, vb);
  if (va) return 1;
  if (vb) return -1;
  return a < b ? -1 : a > b ? 1 : 0;
}
