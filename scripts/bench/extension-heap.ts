/**
 * Where the external extension's memory goes per invocation, in figures machine load does not distort (issue 12,
 * flat memory): `node --import tsx scripts/bench/extension-heap.ts [invocations] [rounds]` (default 50,000, 1).
 *
 * The extension's node runs with the launcher's own flags plus `--trace-gc --trace-gc-nvp --trace-gc-verbose`;
 * between the 1,000th invocation and the last it reports the bytes V8 promoted per invocation (young → old
 * generation), the growth of old space in use per invocation (promotion plus whatever is allocated there directly,
 * such as inline-cache handlers) and the collections run, beside the process's RSS after 1,000, 10,000 and the
 * last invocation. Old space in use only ever grows until a mark-compact, so before the first one its growth is
 * what the invocations left behind, whatever the load. No fault is active; S3 is unreachable (polls back off).
 *
 * FAULTLINE_BENCH_HEAP_LAYERS="before=/unzipped/layer,after=/other" compares unzipped layers, alternating them
 * round by round (default: the layer built from this checkout).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildLayer } from "../../packages/extension/src/layer.ts";
import { rssKb, startEnvironment } from "./extension-env.ts";

const TRACE = ["--trace-gc", "--trace-gc-nvp", "--trace-gc-verbose"];
const MIDPOINT = 10_000;

interface Mark {
  invocations: number;
  rssKb: number;
  /** Length of the GC trace so far: where this mark falls in it. */
  traceAt: number;
}

/** The GC trace between two marks: bytes promoted, old space in use at the first and last collection, counts. */
export function gcBetween(trace: string) {
  let promoted = 0;
  let scavenges = 0;
  let markCompacts = 0;
  const oldUsedKb: number[] = [];
  for (const line of trace.split("\n")) {
    const kind = /\bgc=(\w+)/.exec(line)?.[1];
    if (kind !== undefined) {
      if (kind === "s") scavenges++;
      else markCompacts++;
      promoted += Number(/ promoted=(\d+)/.exec(line)?.[1] ?? 0);
    }
    const used = /Old space,\s+used:\s+(\d+) KB/.exec(line);
    if (used) oldUsedKb.push(Number(used[1]));
  }
  return { promoted, scavenges, markCompacts, oldUsedKb: [oldUsedKb[0] ?? NaN, oldUsedKb.at(-1) ?? NaN] };
}

/** The node flags the layer's launcher passes to the external extension (its `flags=` line). */
function launcherFlags(opt: string): string[] {
  const launcher = readFileSync(join(opt, "extensions/faultline"), "utf8");
  return (/^flags=(.*)$/m.exec(launcher)?.[1] ?? "").split(" ").filter(Boolean);
}

async function measure(name: string, opt: string, dir: string, invocations: number) {
  const output = join(dir, `${name}-${Date.now()}.gc`);
  process.env.FAULTLINE_BENCH_EXTENSION_OUTPUT = output;
  process.env.FAULTLINE_BENCH_EXTENSION_NODE_ARGS = [...launcherFlags(opt), ...TRACE].join(" ");
  const env = await startEnvironment({ mode: "external", opt, dir, s3Endpoint: "http://127.0.0.1:9" });
  const marks: Mark[] = [];
  const started = performance.now();
  try {
    let done = 0;
    for (const at of [1000, Math.min(MIDPOINT, invocations), invocations]) {
      for (; done < at; done++) await env.invoke();
      marks.push({ invocations: at, rssKb: rssKb(env.extensionPid), traceAt: statSync(output).size });
    }
  } finally {
    await env.close();
  }
  const [first, middle, last] = marks as [Mark, Mark, Mark];
  const gc = gcBetween(readFileSync(output, "utf8").slice(first.traceAt, last.traceAt));
  const span = last.invocations - first.invocations;
  const mb = (kb: number) => (kb / 1024).toFixed(1);
  const [oldFrom, oldTo] = gc.oldUsedKb as [number, number];
  console.log(
    `${name}: RSS ${mb(first.rssKb)} → ${mb(middle.rssKb)} → ${mb(last.rssKb)} MB after ${[first, middle, last].map((m) => m.invocations.toLocaleString("en")).join(" / ")} ` +
      `(${last.rssKb >= first.rssKb ? "+" : ""}${mb(last.rssKb - first.rssKb)} MB) in ${((performance.now() - started) / 1000).toFixed(0)} s; ` +
      `per invocation after 1,000: promoted ${(gc.promoted / span).toFixed(1)} B, old space in use ${(((oldTo - oldFrom) * 1024) / span).toFixed(1)} B ` +
      `(${oldFrom} → ${oldTo} kB); ${gc.scavenges} scavenges, ${gc.markCompacts} mark-compacts`,
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const invocations = Number(process.argv[2] ?? 50_000);
  const rounds = Number(process.argv[3] ?? 1);
  const dir = mkdtempSync(join(tmpdir(), "faultline-bench-heap-"));
  try {
    let layers = (process.env.FAULTLINE_BENCH_HEAP_LAYERS ?? "")
      .split(",")
      .filter(Boolean)
      .map((pair) => pair.split("=", 2) as [string, string]);
    if (layers.length === 0) {
      const built = await buildLayer({ out: join(dir, "layer.zip") });
      execFileSync("unzip", ["-q", built.zipPath, "-d", join(dir, "opt")]);
      layers = [["external", join(dir, "opt")]];
    }
    for (let round = 0; round < rounds; round++) {
      for (const [name, opt] of round % 2 === 0 ? layers : [...layers].reverse()) {
        await measure(rounds > 1 ? `round ${round + 1} ${name}` : name, opt, dir, invocations);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
