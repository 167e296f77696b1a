import { execFile } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
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

/**
 * How a standalone layer carries node (docs/extension.md, "Standalone builds", has the measured trade-off):
 *  - "stripped" (default): this machine's node with its symbols and debug info removed (binutils `strip`);
 *  - "plain": this machine's node as it is;
 *  - "xz": the stripped node xz-compressed, plus a static busybox that the launcher uses to unpack it into
 *    /tmp/.faultline once per execution environment: the smallest layer, at a cold-start cost.
 */
export type StandaloneBuild = "stripped" | "plain" | "xz";
export const STANDALONE_BUILDS: readonly StandaloneBuild[] = ["stripped", "plain", "xz"];

export interface BuildLayerOptions {
  /** Where to write the zip (default packages/extension/dist/faultline-layer.zip). */
  out?: string;
  /**
   * Carry this machine's node binary, for runtimes that have no node (Python, Java, provided.*…): `true` is the
   * default build ("stripped").
   */
  standalone?: boolean | StandaloneBuild;
}

export interface BuiltLayer {
  zipPath: string;
  zipBytes: number;
  /** What Lambda counts against its 250 MB unzipped limit: the size of every file in the zip. */
  unzippedBytes: number;
  /** The standalone build actually made ("plain" when `strip` is missing), undefined without --standalone. */
  standalone?: StandaloneBuild;
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
 *   faultline/node         (--standalone only) a node binary (stripped by default)
 *   faultline/node.xz, faultline/busybox  (--standalone xz only, instead of faultline/node)
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
    const standalone = options.standalone === true ? "stripped" : options.standalone || undefined;
    const made = standalone && (await addNode(standalone, join(stage, "faultline")));
    mkdirSync(dirname(zipPath), { recursive: true });
    rmSync(zipPath, { force: true });
    // -X: no extra attributes (reproducible); -r: recurse; -q: quiet. Permissions are kept by default.
    await promisify(execFile)("zip", ["-X", "-r", "-q", zipPath, "extensions", "faultline"], { cwd: stage });
    return {
      zipPath,
      zipBytes: statSync(zipPath).size,
      unzippedBytes: treeBytes(stage),
      ...(made ? { standalone: made } : {}),
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

/** Adds faultline/node (or node.xz + busybox) to the staged layer; returns the build made. */
async function addNode(build: StandaloneBuild, dir: string): Promise<StandaloneBuild> {
  const run = promisify(execFile);
  const node = join(dir, "node");
  if (build === "plain" || !onPath("strip")) {
    copyExecutable(process.execPath, node);
    return "plain";
  }
  await run("strip", ["--strip-all", "-o", node, process.execPath]);
  chmodSync(node, 0o755);
  if (build === "stripped") return build;
  const busybox = staticBusybox();
  // --check=crc32: busybox's decoder (xz-embedded) need not support CRC64; -T0: both cores, blocks it decodes.
  await run("xz", ["-9", "-T0", "--check=crc32", "--", node], { maxBuffer: 1 << 20 });
  copyExecutable(busybox, join(dir, "busybox"));
  return build;
}

/** A statically linked busybox (Debian: busybox-static): the only unpacker an OS-only runtime is sure to run. */
export function staticBusybox(): string {
  for (const dir of (process.env.PATH ?? "/usr/bin:/bin").split(":")) {
    const candidate = join(dir, "busybox");
    if (existsSync(candidate) && !hasInterpreter(candidate)) return candidate;
  }
  throw new Error(
    "layer: the xz standalone build needs a statically linked busybox on PATH (Debian: apt-get install busybox-static)",
  );
}

/** Whether an ELF file names a dynamic loader (a PT_INTERP program header): i.e. it is not static. */
function hasInterpreter(file: string): boolean {
  const elf = readFileSync(file);
  if (elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2) return true; // not a 64-bit ELF: not usable
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const size = elf.readUInt16LE(0x36);
  const count = elf.readUInt16LE(0x38);
  for (let i = 0; i < count; i++) if (elf.readUInt32LE(phoff + i * size) === 3) return true;
  return false;
}

function onPath(command: string): boolean {
  return (process.env.PATH ?? "").split(":").some((dir) => dir && existsSync(join(dir, command)));
}

function treeBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += statSync(join(entry.parentPath, entry.name)).size;
  }
  return total;
}

function copyExecutable(from: string, to: string): void {
  copyFileSync(from, to);
  chmodSync(to, 0o755);
}
