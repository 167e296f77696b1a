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
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { FAULTLINE_VERSION } from "@faultline/protocol";

const PACKAGE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const DEFAULT_LAYER_ZIP = join(PACKAGE_DIR, "dist", "faultline-layer.zip");
/**
 * In the checkout the bundles are built from src/ (main.ts, in-process-main.ts); an installed package ships them
 * pre-bundled in dist/ (extension.cjs, in-process.cjs, in-process-faults.cjs).
 */
const SOURCE_DIR = join(PACKAGE_DIR, "src");
const PREBUILT_DIR = join(PACKAGE_DIR, "dist");

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
  /** Size of faultline/in-process.cjs (the in-process mode's preload). */
  inProcessBundleBytes: number;
  /** Size of faultline/in-process-faults.cjs (loaded at the first event). */
  inProcessFaultsBundleBytes: number;
}

/**
 * Writes the layer zip:
 *   extensions/faultline   launcher (0755)
 *   faultline/bootstrap    exec wrapper (0755)
 *   faultline/extension.cjs the bundled extension (external mode: the Runtime API proxy)
 *   faultline/in-process.cjs the in-process mode's preload (Node runtimes): only the hooks
 *   faultline/in-process-faults.cjs its fault side, required when the runtime asks for its first event
 *   faultline/lifecycle    the in-process mode's Extensions API side (bash, 0755)
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
    const inProcess = join(stage, "faultline", "in-process.cjs");
    const inProcessFaults = join(stage, "faultline", "in-process-faults.cjs");
    if (existsSync(SOURCE_DIR)) {
      await Promise.all([
        bundleExtension(bundle),
        bundleExtension(inProcess, "in-process-main.ts"),
        bundleExtension(inProcessFaults, "in-process-faults-main.ts"),
      ]);
    } else {
      for (const file of [bundle, inProcess, inProcessFaults]) {
        copyFileSync(join(PREBUILT_DIR, basename(file)), file);
      }
    }
    copyExecutable(join(PACKAGE_DIR, "layer", "lifecycle"), join(stage, "faultline", "lifecycle"));
    copyExecutable(join(PACKAGE_DIR, "layer", "launcher"), join(stage, "extensions", "faultline"));
    copyExecutable(join(PACKAGE_DIR, "layer", "bootstrap"), join(stage, "faultline", "bootstrap"));
    writeFileSync(join(stage, "faultline", "VERSION"), `${FAULTLINE_VERSION}\n`);
    if (options.standalone) copyExecutable(process.execPath, join(stage, "faultline", "node"));
    mkdirSync(dirname(zipPath), { recursive: true });
    rmSync(zipPath, { force: true });
    // -X: no extra attributes (reproducible); -r: recurse; -q: quiet. Permissions are kept by default.
    await promisify(execFile)("zip", ["-X", "-r", "-q", zipPath, "extensions", "faultline"], { cwd: stage });
    return {
      zipPath,
      zipBytes: statSync(zipPath).size,
      bundleBytes: statSync(bundle).size,
      inProcessBundleBytes: statSync(inProcess).size,
      inProcessFaultsBundleBytes: statSync(inProcessFaults).size,
    };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

/**
 * esbuild → one minified CJS file with @faultline/protocol and aws4 inside; node built-ins stay external.
 * Checkout only (esbuild is a dev dependency): scripts/build-packages.mjs runs it for the published package.
 */
export async function bundleExtension(outfile: string, entry = "main.ts"): Promise<void> {
  const esbuild = await import("esbuild");
  await esbuild.build({
    entryPoints: [join(SOURCE_DIR, entry)],
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
