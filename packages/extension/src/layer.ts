import { execFile } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { FAULTLINE_VERSION } from "@faultline/protocol";

const PACKAGE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const DEFAULT_LAYER_ZIP = join(PACKAGE_DIR, "dist", "faultline-layer.zip");
/** In the checkout the extension is bundled from src/main.ts; an installed package ships it pre-bundled here. */
const SOURCE_ENTRY = join(PACKAGE_DIR, "src", "main.ts");
const PREBUILT_BUNDLE = join(PACKAGE_DIR, "dist", "extension.cjs");

export interface BuildLayerOptions {
  /** Where to write the zip (default packages/extension/dist/faultline-layer.zip). */
  out?: string;
  /** Carry this machine's node binary as faultline/node, for runtimes that have no node (Python, Java…). */
  standalone?: boolean;
}

export interface BuiltLayer {
  zipPath: string;
  zipBytes: number;
  /** Size of faultline/extension.cjs. */
  bundleBytes: number;
}

/**
 * Writes the layer zip:
 *   extensions/faultline   launcher (0755)
 *   faultline/bootstrap    exec wrapper (0755)
 *   faultline/extension.cjs the bundled extension
 *   faultline/VERSION      FAULTLINE_VERSION, checked by the engine
 *   faultline/node         (--standalone only) a node binary
 * Zipped with the `zip` CLI, which records unix permissions.
 */
export async function buildLayer(options: BuildLayerOptions = {}): Promise<BuiltLayer> {
  const zipPath = resolve(options.out ?? DEFAULT_LAYER_ZIP);
  const stage = mkdtempSync(join(tmpdir(), "faultline-layer-"));
  try {
    mkdirSync(join(stage, "extensions"));
    mkdirSync(join(stage, "faultline"));
    const bundle = join(stage, "faultline", "extension.cjs");
    if (existsSync(SOURCE_ENTRY)) await bundleExtension(bundle);
    else copyFileSync(PREBUILT_BUNDLE, bundle);
    copyExecutable(join(PACKAGE_DIR, "layer", "launcher"), join(stage, "extensions", "faultline"));
    copyExecutable(join(PACKAGE_DIR, "layer", "bootstrap"), join(stage, "faultline", "bootstrap"));
    writeFileSync(join(stage, "faultline", "VERSION"), `${FAULTLINE_VERSION}\n`);
    if (options.standalone) copyExecutable(process.execPath, join(stage, "faultline", "node"));
    mkdirSync(dirname(zipPath), { recursive: true });
    rmSync(zipPath, { force: true });
    // -X: no extra attributes (reproducible); -r: recurse; -q: quiet. Permissions are kept by default.
    await promisify(execFile)("zip", ["-X", "-r", "-q", zipPath, "extensions", "faultline"], { cwd: stage });
    return { zipPath, zipBytes: statSync(zipPath).size, bundleBytes: statSync(bundle).size };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

/**
 * esbuild → one minified CJS file with @faultline/protocol and aws4 inside; node built-ins stay external.
 * Checkout only (esbuild is a dev dependency): scripts/build-packages.mjs runs it for the published package.
 */
export async function bundleExtension(outfile: string): Promise<void> {
  const esbuild = await import("esbuild");
  await esbuild.build({
    entryPoints: [SOURCE_ENTRY],
    outfile,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node18",
    minify: true,
    legalComments: "none",
    logLevel: "warning",
  });
}

function copyExecutable(from: string, to: string): void {
  copyFileSync(from, to);
  chmodSync(to, 0o755);
}
