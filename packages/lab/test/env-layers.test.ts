import assert from "node:assert/strict";
import { existsSync, lstatSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
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
});
