/**
 * Layers merged in order into one directory per layer list (what /opt shows inside an environment).
 * Zips are extracted with yauzl keeping the Unix mode (executable bit) and symlinks; directories are copied.
 * A merge is computed once per distinct (paths, sizes, mtimes) and cached for the life of the process.
 */
import { createHash } from "node:crypto";
import { createWriteStream, rmSync } from "node:fs";
import { chmod, cp, mkdir, mkdtemp, readdir, rename, rm, stat, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve, sep } from "node:path";
import { pipeline } from "node:stream/promises";
import yauzl from "yauzl";
import { LayerError } from "./environment/errors.ts";

const cache = new Map<string, Promise<string>>();
let workRoot: string | undefined;

/** The lab process's scratch root (layer merges, private /tmp dirs), removed when the process exits. */
export async function labWorkRoot(): Promise<string> {
  if (!workRoot) {
    await sweepAbandoned();
    workRoot = await mkdtemp(join(tmpdir(), `faultline-lab-${process.pid}-`));
    const root = workRoot;
    process.once("exit", () => rmSync(root, { recursive: true, force: true }));
  }
  return workRoot;
}

/** Removes scratch roots left by labs that died without running their exit hook (SIGKILL). */
async function sweepAbandoned(): Promise<void> {
  for (const name of await readdir(tmpdir()).catch(() => [] as string[])) {
    const pid = Number(/^faultline-lab-(\d+)-/.exec(name)?.[1]);
    if (!pid || pid === process.pid || isAlive(pid)) continue;
    await rm(join(tmpdir(), name), { recursive: true, force: true }).catch(() => {});
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Merges `layers` (dirs or .zip files, later ones win) into a directory and returns its path. */
export async function mergeLayers(layers: string[]): Promise<string> {
  const key = await cacheKey(layers);
  let merged = cache.get(key);
  if (!merged) {
    merged = build(layers, key);
    cache.set(key, merged);
    merged.catch(() => cache.delete(key));
  }
  return merged;
}

async function cacheKey(layers: string[]): Promise<string> {
  const h = createHash("sha256");
  for (const layer of layers) {
    const abs = resolve(layer);
    const s = await stat(abs).catch(() => {
      throw new LayerError(layer, "does not exist");
    });
    h.update(`${abs}\0${s.size}\0${s.mtimeMs}\0`);
  }
  return h.digest("hex").slice(0, 16);
}

async function build(layers: string[], key: string): Promise<string> {
  const root = await labWorkRoot();
  const target = join(root, "layers", key);
  const staging = `${target}.tmp-${process.hrtime.bigint()}`;
  await mkdir(staging, { recursive: true });
  for (const layer of layers) {
    const abs = resolve(layer);
    const s = await stat(abs);
    if (s.isDirectory()) {
      await cp(abs, staging, { recursive: true, force: true, verbatimSymlinks: true });
    } else if (abs.endsWith(".zip")) {
      await extractZip(abs, staging);
    } else {
      throw new LayerError(layer, "must be a directory or a .zip file");
    }
  }
  await rm(target, { recursive: true, force: true });
  await rename(staging, target);
  return target;
}

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_IFDIR = 0o040000;

/** Extracts a zip into `dest`, refusing entries that would escape it. Unix modes and symlinks are kept. */
export async function extractZip(zipPath: string, dest: string): Promise<void> {
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(zipPath, { lazyEntries: true, strictFileNames: false });
  } catch (err) {
    throw new LayerError(zipPath, `unreadable zip: ${(err as Error).message}`);
  }
  const destRoot = resolve(dest) + sep;
  try {
    await new Promise<void>((resolveAll, reject) => {
      zip.on("error", reject);
      zip.on("end", () => resolveAll());
      zip.on("entry", (entry: yauzl.Entry) => {
        handleEntry(zip, entry, destRoot).then(
          () => zip.readEntry(),
          (err: unknown) => reject(err),
        );
      });
      zip.readEntry();
    });
  } catch (err) {
    if (err instanceof LayerError) throw err;
    throw new LayerError(zipPath, (err as Error).message);
  } finally {
    zip.close();
  }
}

async function handleEntry(zip: yauzl.ZipFile, entry: yauzl.Entry, destRoot: string): Promise<void> {
  const out = resolve(destRoot, entry.fileName);
  if (!out.startsWith(destRoot) && `${out}${sep}` !== destRoot) {
    throw new LayerError(entry.fileName, "zip entry escapes the layer directory");
  }
  const mode = (entry.externalFileAttributes >>> 16) & 0xffff;
  const type = mode & S_IFMT;
  if (entry.fileName.endsWith("/") || type === S_IFDIR) {
    await mkdir(out, { recursive: true });
    if (mode & 0o777) await chmod(out, mode & 0o777);
    return;
  }
  await mkdir(dirname(out), { recursive: true });
  await rm(out, { force: true });
  const stream = await zip.openReadStreamPromise(entry);
  if (type === S_IFLNK) {
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    await symlink(Buffer.concat(chunks).toString("utf8"), out);
    return;
  }
  await pipeline(stream, createWriteStream(out));
  // Zips made on Windows carry no Unix mode: Lambda then uses 0644 (and the bootstrap would not run there either).
  await chmod(out, mode & 0o777 ? mode & 0o777 : 0o644);
}

/** Executables in `<opt>/extensions`, sorted by name (Lambda starts them in that order). */
export async function listExtensions(optDir: string): Promise<string[]> {
  const dir = join(optDir, "extensions");
  const names = await readdir(dir).catch(() => [] as string[]);
  const found: string[] = [];
  for (const name of names.sort()) {
    const s = await stat(join(dir, name)).catch(() => undefined);
    if (s?.isFile() && s.mode & 0o111) found.push(name);
  }
  return found;
}
