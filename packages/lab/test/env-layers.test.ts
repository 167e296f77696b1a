import assert from "node:assert/strict";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
} from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, it } from "node:test";
import { type Zippable, zipSync } from "fflate";
import { LayerError } from "../src/environment/errors.ts";
import { listExtensions, mergeLayers } from "../src/layers.ts";

const layers = join(import.meta.dirname, "fixtures", "env-layers");

describe("layers merged into /opt", () => {
  it("merges a directory and a zip in order, keeping exec bits, symlinks and Windows-made entries", async () => {
    const opt = await mergeLayers([join(layers, "a"), join(layers, "b.zip"), join(layers, "links.zip")]);
    assert.equal(
      readFileSync(join(opt, "layer-a.txt"), "utf8").trim(),
      "from layer b (overrides)",
      "later layers win",
    );
    assert.ok(statSync(join(opt, "wrapper.sh")).mode & 0o100, "exec bit kept from a directory layer");
    assert.ok(statSync(join(opt, "extensions", "b")).mode & 0o100, "exec bit kept from a zip layer");
    assert.ok(statSync(join(opt, "bin", "tool")).mode & 0o100);
    assert.ok(lstatSync(join(opt, "bin", "tool-link")).isSymbolicLink());
    assert.equal(readlinkSync(join(opt, "bin", "tool-link")), "tool");
    assert.equal(statSync(join(opt, "windows.txt")).mode & 0o777, 0o644, "no Unix mode → 0644");
    assert.deepEqual(await listExtensions(opt), ["a", "b"]);
  });

  it("computes a merge once and reuses it", async () => {
    const a = await mergeLayers([join(layers, "a"), join(layers, "b.zip")]);
    const b = await mergeLayers([join(layers, "a"), join(layers, "b.zip")]);
    assert.equal(a, b);
    const c = await mergeLayers([join(layers, "b.zip"), join(layers, "a")]);
    assert.notEqual(a, c, "a different order is a different /opt");
    assert.equal(readFileSync(join(c, "layer-a.txt"), "utf8").trim(), "from layer a");
  });

  it("refuses a zip entry that escapes the layer directory", async () => {
    await assert.rejects(mergeLayers([join(layers, "slip.zip")]), (err: unknown) => {
      assert.ok(err instanceof LayerError);
      assert.match(err.message, /slip\.zip|escaped/);
      return true;
    });
    assert.equal(existsSync(join(dirname(layers), "escaped.txt")), false);
  });

  it("names the layer that is missing or not a dir/zip", async () => {
    await assert.rejects(mergeLayers([join(layers, "nope")]), /layer .*nope: does not exist/);
    const dir = await mkdtemp(join(tmpdir(), "faultline-layer-test-"));
    try {
      await writeFile(join(dir, "layer.tar"), "x");
      await assert.rejects(
        mergeLayers([join(dir, "layer.tar")]),
        /layer .*layer\.tar: must be a directory or a \.zip file/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  // Issue 9 item 4: the lab extracts as root, so a crafted zip must never write outside the merge.
  describe("hostile layers are refused and write nothing outside the merge", () => {
    const scratch = mkdtempSyncIn("faultline-hostile-");
    after(() => rm(scratch, { recursive: true, force: true }));
    const victim = join(scratch, "victim");
    mkdirSync(victim);
    let n = 0;
    /** A zip with Unix entries: a trailing "@" in a name marks a symlink whose content is the target. */
    const zip = async (entries: Array<[string, string]>) => {
      const files: Zippable = {};
      for (const [name, content] of entries) {
        const link = name.endsWith("@");
        const mode = link ? 0o120777 : name.endsWith("/") ? 0o040755 : 0o100644;
        files[link ? name.slice(0, -1) : name] = [
          new TextEncoder().encode(content),
          { os: 3, attrs: (mode << 16) >>> 0 },
        ];
      }
      const path = join(scratch, `hostile-${n++}.zip`);
      await writeFile(path, zipSync(files));
      return path;
    };
    const refused = async (layers: string[], why: RegExp) => {
      await assert.rejects(mergeLayers(layers), (err: unknown) => {
        assert.ok(err instanceof LayerError, String(err));
        assert.match(err.message, why);
        return true;
      });
      assert.deepEqual(readdirNames(victim), [], "nothing was written outside the merge");
    };

    it("a symlink to a host directory followed by a file through it (x → /victim, x/file)", async () => {
      await refused(
        [
          await zip([
            ["x@", victim],
            ["x/planted", "pwned"],
          ]),
        ],
        /symlink x → .* leaves the layer directory/,
      );
    });

    it("a relative symlink that climbs out (x → ../../victim), then a file through it", async () => {
      await refused(
        [
          await zip([
            ["x@", "../../../../../../../../../../.." + victim],
            ["x/planted", "pwned"],
          ]),
        ],
        /leaves the layer directory/,
      );
    });

    it("an absolute entry name and a `..` entry name", async () => {
      const abs = join(scratch, "hostile-abs.zip");
      // fflate refuses to build such names, so patch a placeholder of the same length in the archive's bytes.
      const placeholder = `A${"b".repeat(victim.length + "/planted".length - 1)}`;
      const bytes = Buffer.from(zipSync({ [placeholder]: new TextEncoder().encode("pwned") }));
      await writeFile(abs, replaceAll(bytes, placeholder, `${victim}/planted`));
      await refused([abs], /absolute|escapes|invalid/);
      await refused([await zip([["a/../../../../../../../..", "x"]])], /escapes|invalid relative path/);
    });

    it("a directory layer's symlink x → /victim and a later layer's x/file", async () => {
      const dirLayer = join(scratch, "dir-layer");
      mkdirSync(dirLayer);
      symlinkSync(join(scratch, "victim"), join(dirLayer, "x"));
      await refused([dirLayer], /leaves the layer directory/);
      const inside = join(scratch, "dir-layer-2");
      mkdirSync(join(inside, "real"), { recursive: true });
      symlinkSync("real", join(inside, "x")); // an internal link is fine on its own…
      const merged = await mergeLayers([inside]);
      assert.equal(readlinkSync(join(merged, "x")), "real");
      // …but a later layer writing through it would follow a symlink as root: refused.
      await refused([inside, await zip([["x/planted", "pwned"]])], /goes through the symlink x/);
    });

    it("keeps symlinks that stay inside, and absolute ones into /opt (where Lambda mounts layers)", async () => {
      const merged = await mergeLayers([
        await zip([
          ["lib/real.so", "so"],
          ["lib/link.so@", "real.so"],
          ["bin/tool@", "/opt/lib/real.so"],
        ]),
      ]);
      assert.equal(readlinkSync(join(merged, "lib", "link.so")), "real.so");
      assert.equal(readlinkSync(join(merged, "bin", "tool")), "/opt/lib/real.so");
    });
  });
});

function mkdtempSyncIn(prefix: string): string {
  const dir = join(tmpdir(), `${prefix}${process.pid}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

function readdirNames(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}

function replaceAll(bytes: Buffer, from: string, to: string): Buffer {
  assert.equal(from.length, to.length);
  const out = Buffer.from(bytes);
  for (let at = out.indexOf(from); at >= 0; at = out.indexOf(from, at + 1)) out.write(to, at, "latin1");
  return out;
}
