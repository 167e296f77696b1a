import { createHash } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { type BuildLayerOptions, type BuiltLayer, buildLayer } from "../../src/layer.ts";

const ROOT = resolve(import.meta.dirname, "../../../..");
/** Everything a layer is made of: its sources, its shell files, the protocol it bundles, the locked dependencies. */
const INPUTS = [
  "packages/extension/src",
  "packages/extension/layer",
  "packages/extension/package.json",
  "packages/protocol/src",
  "packages/protocol/package.json",
  "package-lock.json",
  "tsconfig.json",
];
const CACHE = join(tmpdir(), "faultline-test-layers");
/** Entries unused this long are removed when a new one is written (a standalone zip is some 40 MB). */
const KEEP_MS = 24 * 3600_000;

/**
 * `buildLayer`, memoised on disk for the test suites: a dozen files start labs with the layer, and a standalone
 * build (strip and zip a 100 MB node) takes a minute on a busy machine. The key is the content of every input
 * (INPUTS, and for a standalone build this node binary and `strip`), so a changed source builds afresh; the zip is
 * copied to `out`, never shared. packages/extension/test/layer.test.ts builds the plain layer without it.
 */
export async function testLayer(
  out: string,
  options: Omit<BuildLayerOptions, "out"> = {},
): Promise<BuiltLayer> {
  const key = cacheKey(options);
  const zip = join(CACHE, `${key}.zip`);
  const meta = join(CACHE, `${key}.json`);
  if (existsSync(zip) && existsSync(meta)) {
    mkdirSync(resolve(out, ".."), { recursive: true });
    copyFileSync(zip, out);
    const now = new Date();
    utimesSync(zip, now, now);
    utimesSync(meta, now, now);
    return { ...(JSON.parse(readFileSync(meta, "utf8")) as BuiltLayer), zipPath: resolve(out) };
  }
  const built = await buildLayer({ ...options, out });
  mkdirSync(CACHE, { recursive: true });
  prune();
  // Written aside then renamed: a test file running beside this one never reads half a zip.
  const partial = `${zip}.${process.pid}`;
  copyFileSync(built.zipPath, partial);
  renameSync(partial, zip);
  writeFileSync(`${meta}.${process.pid}`, JSON.stringify(built));
  renameSync(`${meta}.${process.pid}`, meta);
  return built;
}

function cacheKey(options: Omit<BuildLayerOptions, "out">): string {
  const hash = createHash("sha256");
  hash.update(JSON.stringify({ standalone: options.standalone ?? false, node: process.version }));
  for (const input of INPUTS) hashTree(hash, join(ROOT, input));
  if (options.standalone) {
    const node = statSync(process.execPath);
    hash.update(`${process.execPath} ${node.size} ${node.mtimeMs}`);
    hash.update(process.env.PATH ?? "");
  }
  return hash.digest("hex").slice(0, 32);
}

function hashTree(hash: ReturnType<typeof createHash>, path: string): void {
  const stat = statSync(path);
  if (stat.isDirectory()) {
    for (const entry of readdirSync(path).sort()) hashTree(hash, join(path, entry));
    return;
  }
  // The mode too: the launcher and wrapper must stay executable.
  hash.update(`${relative(ROOT, path)} ${stat.mode}\n`);
  hash.update(readFileSync(path));
}

function prune(): void {
  for (const entry of readdirSync(CACHE)) {
    const path = join(CACHE, entry);
    try {
      if (Date.now() - statSync(path).mtimeMs > KEEP_MS) rmSync(path, { force: true });
    } catch {
      // removed by another test process meanwhile
    }
  }
}
