/**
 * Layers merged in order into one directory per layer list (what /opt shows inside an environment).
 * Zips are extracted with yauzl keeping the Unix mode (executable bit) and symlinks; directories are copied.
 * A merge is computed once per distinct (paths, sizes, mtimes) and cached for the life of the process.
 *
 * The lab extracts as root, so nothing a layer holds may make it write outside the merge: every entry is
 * written through `SafeTree`, which refuses absolute names and `..`, never follows a symlink (an earlier entry
 * or layer's `x → /etc` followed by `x/file`), and refuses symlinks whose target leaves `/opt`.
 */
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, rmSync } from "node:fs";
import { chmod, lstat, mkdir, mkdtemp, readdir, readlink, rename, rm, stat, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { isAbsolute, join, posix, resolve } from "node:path";
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

/**
 * Removes scratch roots left by labs that died without running their exit hook (SIGKILL): only those whose
 * process is gone. Runs when a lab starts and again before this process makes its own root.
 */
export async function sweepAbandoned(): Promise<void> {
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
  await chmod(staging, 0o755); // /opt as Lambda shows it, whatever the umask: the sandbox user must enter it
  for (const layer of layers) {
    const abs = resolve(layer);
    const s = await stat(abs);
    if (s.isDirectory()) {
      await copyDir(abs, new SafeTree(staging, layer));
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

/** Extracts a zip into `dest` through a SafeTree (see the header). Unix modes and symlinks are kept. */
export async function extractZip(zipPath: string, dest: string): Promise<void> {
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(zipPath, { lazyEntries: true, strictFileNames: false });
  } catch (err) {
    throw new LayerError(zipPath, `unreadable zip: ${(err as Error).message}`);
  }
  const tree = new SafeTree(dest, zipPath);
  try {
    await new Promise<void>((resolveAll, reject) => {
      zip.on("error", reject);
      zip.on("end", () => resolveAll());
      zip.on("entry", (entry: yauzl.Entry) => {
        handleEntry(zip, entry, tree).then(
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

async function handleEntry(zip: yauzl.ZipFile, entry: yauzl.Entry, tree: SafeTree): Promise<void> {
  const mode = (entry.externalFileAttributes >>> 16) & 0xffff;
  const type = mode & S_IFMT;
  if (entry.fileName.endsWith("/") || type === S_IFDIR) {
    await tree.mkdir(entry.fileName, mode & 0o777);
    return;
  }
  const stream = await zip.openReadStreamPromise(entry);
  if (type === S_IFLNK) {
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    await tree.symlink(entry.fileName, Buffer.concat(chunks).toString("utf8"));
    return;
  }
  // Zips made on Windows carry no Unix mode: Lambda then uses 0644 (and the bootstrap would not run there either).
  await tree.writeFile(entry.fileName, stream, mode & 0o777 ? mode & 0o777 : 0o644);
}

/** A directory layer, copied entry by entry through the same checks as a zip. */
async function copyDir(src: string, tree: SafeTree, rel = ""): Promise<void> {
  for (const entry of await readdir(join(src, rel), { withFileTypes: true })) {
    const name = rel ? `${rel}/${entry.name}` : entry.name;
    const from = join(src, name);
    if (entry.isSymbolicLink()) await tree.symlink(name, await readlink(from));
    else if (entry.isDirectory()) {
      await tree.mkdir(name, (await stat(from)).mode & 0o777);
      await copyDir(src, tree, name);
    } else if (entry.isFile())
      await tree.writeFile(name, createReadStream(from), (await stat(from)).mode & 0o777);
    // sockets, FIFOs and devices are not layer content: skipped
  }
}

/**
 * Writes into one directory and nowhere else, whatever the names say: refuses absolute names and `..`, refuses
 * to go through (or replace into) a symlink, and refuses symlinks whose target leaves the tree. Absolute targets
 * under /opt are kept (that is where the tree is mounted in the environment, as in Lambda).
 */
export class SafeTree {
  readonly #root: string;
  constructor(
    root: string,
    readonly source: string,
  ) {
    this.#root = resolve(root);
  }

  async mkdir(name: string, mode: number): Promise<void> {
    const parts = this.#parts(name);
    if (parts.length === 0) return;
    const out = await this.#prepare(parts, true);
    if (mode) await chmod(out, mode);
  }

  async writeFile(name: string, content: NodeJS.ReadableStream, mode: number): Promise<void> {
    const out = await this.#prepare(this.#parts(name), false);
    // flags "wx": never opens an existing path (a symlink planted in between included).
    await pipeline(content, createWriteStream(out, { flags: "wx", mode: 0o600 }));
    await chmod(out, mode);
  }

  async symlink(name: string, target: string): Promise<void> {
    const parts = this.#parts(name);
    if (!this.#targetStaysInside(parts, target)) {
      throw new LayerError(this.source, `symlink ${name} → ${target} leaves the layer directory (refused)`);
    }
    await symlink(target, await this.#prepare(parts, false));
  }

  /** The entry's name split into components, or a LayerError when it is absolute or climbs out. */
  #parts(name: string): string[] {
    const clean = name.replaceAll("\\", "/");
    if (clean.startsWith("/") || /^[A-Za-z]:/.test(clean)) {
      throw new LayerError(this.source, `zip entry ${name} has an absolute name (refused)`);
    }
    const parts = clean.split("/").filter((p) => p !== "" && p !== ".");
    if (parts.includes(".."))
      throw new LayerError(this.source, `zip entry ${name} escapes the layer directory`);
    return parts;
  }

  /**
   * Makes every parent of `parts` a real directory (never a symlink) and returns the entry's path. A directory
   * entry is created too; any other existing entry at that path is removed (later layers win).
   */
  async #prepare(parts: string[], isDir: boolean): Promise<string> {
    let at = this.#root;
    for (let i = 0; i < parts.length; i++) {
      at = join(at, parts[i]!);
      const last = i === parts.length - 1;
      const existing = await lstat(at).catch(() => undefined);
      if (existing?.isSymbolicLink() && !(last && !isDir)) {
        throw new LayerError(
          this.source,
          `entry ${parts.join("/")} goes through the symlink ${parts.slice(0, i + 1).join("/")} (refused)`,
        );
      }
      if (!last || isDir) {
        if (existing && !existing.isDirectory()) await rm(at, { force: true });
        if (!existing?.isDirectory()) await mkdir(at);
      } else if (existing) {
        await rm(at, { recursive: true, force: true });
      }
    }
    return at;
  }

  #targetStaysInside(parts: string[], target: string): boolean {
    if (target.includes("\0") || target === "") return false;
    if (isAbsolute(target)) {
      const norm = posix.normalize(target);
      return norm === "/opt" || norm.startsWith("/opt/");
    }
    const resolved = posix.normalize(posix.join(...parts.slice(0, -1), target));
    return resolved !== ".." && !resolved.startsWith("../");
  }
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
