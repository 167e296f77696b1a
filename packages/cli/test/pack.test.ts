/**
 * The published packages, proven from their tarballs (issue 10 "Installable"): `npm run pack` builds and packs
 * them, they are installed into a fresh folder outside the repository (under os.tmpdir(), which the lab hides from
 * functions behind a private /tmp), and the installed `faultline` — compiled JavaScript, no tsx — runs there:
 * --version, layer build, and `up` started through `npx`, driven by the AWS SDK and the AWS CLI v2, then ended by
 * SIGTERM to npm, which must take every lab process down with it.
 *
 * Cost: two third-party dependencies compile native code in their install scripts — aws-lambda-ric (libcurl and
 * aws-lambda-cpp from source) and better-sqlite3 (SQLite) — which took 21 min on this loaded 2-core machine, far
 * past the test's ~3 min budget. So the tarballs are installed with --ignore-scripts and the compiled addons (the
 * only products of those scripts) are copied from the checkout, where `npm ci` built the same versions; should npm
 * resolve a newer release than the checkout's, that one is rebuilt (`npm rebuild`). Everything else — resolution,
 * the dependency tree, the manifests — is npm's own install. FAULTLINE_PACK_TEST_BUILD_NATIVE=1 runs the install
 * scripts instead (the full native builds).
 */
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { FAULTLINE_VERSION } from "@faultline/protocol";
import { awsCliV2, labOwnedProcesses } from "@faultline/testing";
import { awsCli } from "../../api/test/kit.ts";
import { alive, cmdline, descendants, firstLine, waitFor } from "./processes.ts";

const run = promisify(execFile);
const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const TARBALLS = join(REPO, "build", "tarballs");
/** What the `faultline` command needs: installed together in one folder. */
const PACKAGES = ["protocol", "rules", "report", "engine", "api", "extension", "lab", "cli"];
/** @faultline/cdk and what it depends on: installed apart, as a CDK app's only faultline package. */
const CDK_PACKAGES = ["cdk", "rules", "protocol"];
/** Everything npm installs into a CDK app besides its own (linked) aws-cdk-lib and constructs: no engine. */
const CDK_INSTALLS = ["@faultline/cdk", "@faultline/protocol", "@faultline/rules", "tinyduration", "zod"];
const tarball = (p: string) => join(TARBALLS, `faultline-${p}-${FAULTLINE_VERSION}.tgz`);
const DELAY_MS = 1500;
/** Third-party dependencies that compile native code on install: minutes each on a 2-core machine. */
const NATIVE = ["aws-lambda-ric", "better-sqlite3"];

/** Wall-clock cost of each step, printed at the end (the test's budget is ~3 min). */
const cost: Record<string, number> = {};
async function step<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const start = performance.now();
  try {
    return await fn();
  } finally {
    cost[name] = Math.round(performance.now() - start);
  }
}

let dir: string;
const bin = () => join(dir, "node_modules", ".bin", "faultline");

// Generous bounds for a loaded machine; the measured cost is printed at the end.
before(
  async () => {
    await step("build + npm pack (9 packages)", () =>
      run(process.execPath, [join(REPO, "scripts", "build-packages.mjs"), "--pack"], { cwd: REPO }),
    );
    dir = mkdtempSync(join(tmpdir(), "faultline-pack-"));
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "pack-test", private: true }));
    const buildNative = process.env.FAULTLINE_PACK_TEST_BUILD_NATIVE === "1";
    await step(`npm install --prefer-offline${buildNative ? "" : " --ignore-scripts"} (tarballs)`, () =>
      npmInstall(dir, PACKAGES.map(tarball), buildNative),
    );
    for (const name of buildNative ? [] : NATIVE) {
      // A newer release than the checkout's (npm resolved the range afresh): build that one for real.
      if (!copyBuiltAddons(name))
        await step(`npm rebuild ${name}`, () =>
          run("npm", ["rebuild", name], { cwd: dir, maxBuffer: 16 << 20 }),
        );
    }
  },
  { timeout: 900_000 },
);

/** `npm install` from npm's cache (filled by `npm ci`) into `cwd`, install scripts only with `withScripts`. */
function npmInstall(cwd: string, specs: string[], withScripts = false) {
  const flags = ["--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"];
  return run("npm", ["install", ...flags, ...(withScripts ? [] : ["--ignore-scripts"]), ...specs], {
    cwd,
    env: { ...process.env, npm_config_update_notifier: "false" },
    maxBuffer: 16 << 20,
  });
}

/** The checkout's compiled addons of `name` (*.node) into the installed copy, if it is the same version. */
function copyBuiltAddons(name: string): boolean {
  const from = join(REPO, "node_modules", name);
  const to = join(dir, "node_modules", name);
  const version = (d: string) => JSON.parse(readFileSync(join(d, "package.json"), "utf8")).version;
  if (version(to) !== version(from)) return false;
  for (const entry of readdirSync(from, { recursive: true }) as string[]) {
    if (entry.endsWith(".node") && !/^(deps|build\/Release\/obj)/.test(entry)) {
      mkdirSync(dirname(join(to, entry)), { recursive: true });
      copyFileSync(join(from, entry), join(to, entry));
    }
  }
  return true;
}

after(() => {
  const start = performance.now();
  if (dir) rmSync(dir, { recursive: true, force: true });
  cost["rm -r the install folder"] = Math.round(performance.now() - start);
  console.log(`# pack test cost (ms): ${JSON.stringify(cost)}`);
  for (const p of [...PACKAGES, "cdk"]) {
    const file = tarball(p);
    if (existsSync(file)) console.log(`# ${p} tarball: ${readFileSync(file).length} bytes`);
  }
});

describe("the packed tarballs, installed outside the repository", () => {
  test("each tarball holds compiled JS + declarations, LICENSE and a publishable manifest; no sources, no tests", async () => {
    for (const p of PACKAGES) await assertPublishable(p, join(dir, "node_modules", "@faultline", p));
    // The native dependencies are there because installed manifests ask for them (npm prunes what nobody needs).
    const installed = JSON.parse(
      readFileSync(join(dir, "node_modules", ".package-lock.json"), "utf8"),
    ).packages;
    for (const name of NATIVE) assert.ok(installed[`node_modules/${name}`], `${name} installed`);
    // The declarations resolve among themselves: relative imports name .js files that are there.
    const dts = readFileSync(join(dir, "node_modules", "@faultline", "cli", "dist", "index.d.ts"), "utf8");
    assert.match(dts, /from "\.\/main\.js"/);
  });

  test("the declarations type-check a consumer (NodeNext, strict) without the sources", async () => {
    writeFileSync(
      join(dir, "consumer.mts"),
      [
        'import { main, VERSION } from "@faultline/cli";',
        'import { buildLayer } from "@faultline/extension/layer";',
        'import { type LabConfig, startLab } from "@faultline/lab";',
        'import { FAULTLINE_VERSION } from "@faultline/protocol";',
        "export const checks: [Promise<number>, string, typeof buildLayer, typeof startLab, LabConfig | undefined] =",
        "  [main(['--version']), VERSION + FAULTLINE_VERSION, buildLayer, startLab, undefined];",
        "",
      ].join("\n"),
    );
    const tsc = join(REPO, "node_modules", "typescript", "bin", "tsc");
    // --skipLibCheck: checking every AWS SDK declaration costs ~40 s; the consumer's own uses are still checked,
    // and no declaration may import a .ts file (what tsc leaves in them unless the build rewrites it).
    for (const p of PACKAGES) {
      const dist = join(dir, "node_modules", "@faultline", p, "dist");
      for (const f of readdirSync(dist, { recursive: true }) as string[]) {
        if (f.endsWith(".d.ts"))
          assert.doesNotMatch(readFileSync(join(dist, f), "utf8"), /from "\.[^"]*\.ts"/, f);
      }
    }
    const args = [
      "--noEmit",
      "--strict",
      "--skipLibCheck",
      "--module",
      "nodenext",
      "--moduleResolution",
      "nodenext",
    ];
    const types = ["--types", "node", "--typeRoots", join(REPO, "node_modules", "@types")];
    const result = await run(process.execPath, [tsc, ...args, ...types, "consumer.mts"], { cwd: dir }).catch(
      (error: { stdout: string }) => error,
    );
    assert.equal(result.stdout, "", "tsc reports no errors");
  });

  test("faultline --version prints the one version, from compiled code", async () => {
    const { stdout } = await run(bin(), ["--version"], { cwd: dir });
    assert.equal(stdout.trim(), FAULTLINE_VERSION);
    assert.equal(existsSync(join(dir, "node_modules", "tsx")), false, "tsx is not installed");
  });

  test("faultline layer build writes the layer zip from the pre-bundled extension", async () => {
    const { stdout } = await run(bin(), ["layer", "build", "--out", "faultline-layer.zip"], { cwd: dir });
    assert.match(stdout, /faultline-layer\.zip\n {2}zip \d+ bytes, extension\.cjs \d+ bytes/);
    const { stdout: listing } = await run("unzip", ["-Z1", join(dir, "faultline-layer.zip")]);
    for (const f of [
      "extensions/faultline",
      "faultline/bootstrap",
      "faultline/extension.cjs",
      "faultline/VERSION",
    ])
      assert.ok(listing.split("\n").includes(f), f);
  });

  test("npx faultline up: SDK invoke, an AWS CLI start-delay experiment delays it; SIGTERM to npm ends the lab", {
    timeout: 300_000,
  }, async () => {
    writeLab();
    // A real process tree: npm exec → sh → node faultline (what `npx faultline up` runs).
    const npm = spawn("npx", ["faultline", "up", "--json", "-c", "lab.json", "--data-dir", "engine"], {
      cwd: dir,
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, npm_config_update_notifier: "false" },
    });
    const npmExited = once(npm, "exit");
    let faultline = 0;
    try {
      const endpoints = JSON.parse(await firstLine(npm)) as { lambda: string; fis: string };
      faultline = descendants(npm.pid!).find((pid) => cmdline(pid).includes("faultline up")) ?? 0;
      assert.ok(faultline, "the faultline process under npm");
      await step("up: invoke + experiment", () => delayedByExperiment(endpoints));
      assert.ok(labOwnedProcesses(faultline).length > 0, "the function's environment runs");
      npm.kill("SIGTERM");
      await npmExited;
      const gone = await step("SIGTERM npm → lab gone", () => waitFor(() => !alive(faultline), 20_000));
      assert.ok(gone, "faultline outlived npm");
      assert.deepEqual(labOwnedProcesses(faultline), []);
    } finally {
      if (npm.exitCode === null) npm.kill("SIGKILL");
      if (faultline && alive(faultline)) process.kill(faultline, "SIGKILL");
    }
  });
});

describe("@faultline/cdk from its tarball, alone in an empty CDK app folder", () => {
  let app: string;
  before(
    async () => {
      app = mkdtempSync(join(tmpdir(), "faultline-pack-cdk-"));
      writeFileSync(
        join(app, "package.json"),
        JSON.stringify({ name: "cdk-app", private: true, type: "module" }),
      );
      // The peer dependencies are the app's own: linked from the checkout (aws-cdk-lib is ~50 MB to fetch).
      const peers = ["aws-cdk-lib", "constructs"].map((name) => join(REPO, "node_modules", name));
      await step("npm install @faultline/cdk + linked peers", () =>
        npmInstall(app, [...peers, ...CDK_PACKAGES.map(tarball)]),
      );
    },
    { timeout: 300_000 },
  );
  after(() => app && rmSync(app, { recursive: true, force: true }));

  test("the tarball holds its own README, LICENSE, a .d.ts beside every module; aws-cdk-lib and constructs are peers", async () => {
    const installed = join(app, "node_modules", "@faultline", "cdk");
    const manifest = await assertPublishable("cdk", installed);
    assert.deepEqual(Object.keys(manifest.peerDependencies).sort(), ["aws-cdk-lib", "constructs"]);
    for (const peer of ["aws-cdk-lib", "constructs", "cdk-nag"])
      assert.equal(manifest.dependencies[peer], undefined, `${peer} is not a dependency`);
    assert.match(readFileSync(join(installed, "README.md"), "utf8"), /^# @faultline\/cdk\n/);
    const dist = readdirSync(join(installed, "dist"));
    for (const js of dist.filter((f) => f.endsWith(".js"))) {
      const dts = js.replace(/\.js$/, ".d.ts");
      assert.ok(dist.includes(dts), `${js} has its declarations`);
      // Their imports name files that are there (what tsc leaves as .ts unless the build rewrites them).
      for (const [, spec] of readFileSync(join(installed, "dist", dts), "utf8").matchAll(
        /from "\.\/([^"]+)"/g,
      ))
        assert.ok(dist.includes(spec!.replace(/\.js$/, ".d.ts")), `${dts} → ${spec}`);
    }
    const index = readFileSync(join(installed, "dist", "index.d.ts"), "utf8");
    for (const name of [
      "Faultline",
      "FaultlineLayer",
      "LambdaFaultExperiment",
      "ExperimentAction",
      "LambdaTarget",
    ])
      assert.match(index, new RegExp(`\\b${name}\\b`), `index.d.ts exports ${name}`);
  });

  test("a CDK app installs only the rules, not the engine: no SQLite (native build), no AWS SDK", () => {
    const installed = JSON.parse(readFileSync(join(app, "node_modules", ".package-lock.json"), "utf8"))
      .packages as Record<string, { link?: boolean }>;
    const names = Object.entries(installed)
      .filter(([path, entry]) => path.startsWith("node_modules/") && !entry.link)
      .map(([path]) => path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length));
    for (const heavy of ["better-sqlite3", "@faultline/engine", "@faultline/report"])
      assert.ok(!names.includes(heavy), `${heavy} is not installed`);
    assert.deepEqual(
      names.filter((n) => n.startsWith("@aws-sdk/")),
      [],
      "no AWS SDK client",
    );
    assert.deepEqual([...new Set(names)].sort(), CDK_INSTALLS);
  });

  test("a CDK app (function + Faultline.enable + LambdaFaultExperiment) synthesises with the packed code", {
    timeout: 120_000,
  }, async () => {
    // What the README says a user does first: the layer zip, built by the faultline command, in the app's folder.
    await run(bin(), ["layer", "build"], { cwd: app });
    writeFileSync(join(app, "app.mjs"), CDK_APP);
    // Plain JavaScript: type-checking a consumer of aws-cdk-lib's declarations costs 15 s of CPU (3 min on a loaded
    // machine); the declarations' presence and imports are checked above and in the consumer test.
    const { stdout } = await step("synth the CDK app", () =>
      run(process.execPath, ["app.mjs"], { cwd: app }),
    );
    // A bad prop fails at synth time naming the field: @faultline/rules run from the packed code, without the engine.
    assert.match(stdout, /invocationPercentage: must be from 1 to 100, got 150/);
    const out = join(app, "cdk.out");
    const json = (file: string) => JSON.parse(readFileSync(join(out, file), "utf8"));
    // biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON, read field by field below.
    const resources: { Type: string; Properties: Record<string, any> }[] = Object.values(
      json("Orders.template.json").Resources,
    );
    const ofType = (type: string) => resources.filter((r) => r.Type === type);
    const [layer] = ofType("AWS::Lambda::LayerVersion");
    assert.ok(layer, "the default FaultlineLayer");
    const assets: { displayName: string; source: { path: string } }[] = Object.values(
      json("Orders.assets.json").files,
    );
    const code = assets.find((a) => a.displayName === "FaultlineLayer/Code");
    assert.ok(
      code &&
        readFileSync(join(out, code.source.path)).equals(readFileSync(join(app, "faultline-layer.zip"))),
      "the layer's code is ./faultline-layer.zip",
    );
    const fn = ofType("AWS::Lambda::Function")[0]!.Properties;
    assert.equal(fn.Environment.Variables.AWS_LAMBDA_EXEC_WRAPPER, "/opt/faultline/bootstrap");
    assert.equal(fn.Layers.length, 1);
    const fis = ofType("AWS::FIS::ExperimentTemplate")[0]!.Properties;
    assert.equal(fis.Actions.delay.ActionId, "aws:lambda:invocation-add-delay");
    // invocationPercentage left out: FIS's default (100) applies.
    assert.deepEqual(fis.Actions.delay.Parameters, { duration: "PT5M", startupDelayMilliseconds: "2000" });
    assert.equal(ofType("AWS::IAM::Role").length, 2, "the function's role and the experiment role");
  });
});

/** The README's app, plus a second App with a bad percentage whose synth-time error it prints. */
const CDK_APP = `import { App, Duration, Stack } from "aws-cdk-lib";
import { Code, Function as LambdaFunction, Runtime } from "aws-cdk-lib/aws-lambda";
import { Bucket } from "aws-cdk-lib/aws-s3";
import { ExperimentAction, Faultline, FaultlinePropsError, LambdaFaultExperiment, LambdaTarget } from "@faultline/cdk";

function orders(invocationPercentage) {
  // CDK's built-in CloudFormation validation costs ~30 s of CPU per synth (packages/cdk/test/fixtures.ts).
  const app = new App({ outdir: "cdk.out", builtinCloudFormationValidation: false });
  const stack = new Stack(app, "Orders");
  const faults = new Bucket(stack, "Faults");
  const checkout = new LambdaFunction(stack, "Checkout", {
    runtime: Runtime.NODEJS_22_X,
    handler: "index.handler",
    code: Code.fromInline("exports.handler = async () => 'ok';"),
  });
  Faultline.enable(checkout, { configBucket: faults });
  new LambdaFaultExperiment(stack, "Delay", {
    description: "2 s start delay on every invocation",
    configBucket: faults,
    actions: {
      delay: ExperimentAction.addDelay({
        target: LambdaTarget.fromFunctions([checkout]),
        duration: Duration.minutes(5),
        startupDelayMilliseconds: 2000,
        ...(invocationPercentage === undefined ? {} : { invocationPercentage }),
      }),
    },
  });
  return app;
}

orders().synth();
try {
  orders(150);
} catch (error) {
  if (!(error instanceof FaultlinePropsError)) throw error;
  console.log(error.message);
}
`;

/**
 * A packed package as npm would publish it: compiled JS + declarations, LICENSE and a README, no sources or tests
 * in the tarball; the installed manifest publishable, at the one version. Returns the installed manifest.
 */
async function assertPublishable(p: string, installed: string) {
  const { stdout } = await run("tar", ["-tzf", tarball(p)]);
  const files = stdout.trim().split("\n");
  for (const f of ["LICENSE", "README.md", "dist/index.js", "dist/index.d.ts"])
    assert.ok(files.includes(`package/${f}`), `${p}: ${f}`);
  assert.deepEqual(
    files.filter((f) => /\.ts$/.test(f) && !f.endsWith(".d.ts")),
    [],
    `${p}: TypeScript sources`,
  );
  assert.deepEqual(
    files.filter((f) => /\/test\/|\.test\./.test(f)),
    [],
    `${p}: tests`,
  );
  const manifest = JSON.parse(readFileSync(join(installed, "package.json"), "utf8"));
  assert.equal(manifest.version, FAULTLINE_VERSION, p);
  assert.equal(manifest.private, undefined, `${p} is publishable`);
  assert.ok(manifest.engines.node && manifest.description && manifest.license === "Apache-2.0", p);
  for (const [name, range] of Object.entries({
    ...manifest.dependencies,
    ...manifest.optionalDependencies,
  })) {
    if (name.startsWith("@faultline/")) assert.equal(range, FAULTLINE_VERSION, `${p} → ${name}`);
    assert.notEqual(name, "tsx", `${p} needs no tsx at run time`);
  }
  return manifest;
}

/** One function, the built layer attached by path, ready for FIS (tag + wrapper + location). */
function writeLab(): void {
  mkdirSync(join(dir, "fn"));
  writeFileSync(
    join(dir, "fn", "index.mjs"),
    "export const handler = async (event) => ({ ok: true, n: event.n });\n",
  );
  writeFileSync(
    join(dir, "lab.json"),
    JSON.stringify({
      ports: { lambda: 0, s3: 0, fis: 0, cloudwatch: 0 },
      buckets: ["faults"],
      functions: [
        {
          name: "hello",
          runtime: "nodejs20.x",
          handler: "index.handler",
          code: "fn",
          layers: ["faultline-layer.zip"],
          tags: { FISExperimentReady: "Yes" },
          environment: {
            AWS_LAMBDA_EXEC_WRAPPER: "/opt/faultline/bootstrap",
            AWS_FIS_CONFIGURATION_LOCATION: "arn:aws:s3:::faults/FisConfigs/",
            AWS_FIS_SLOW_POLL_INTERVAL_SECONDS: "1",
            FAULTLINE_HOT_POLL_INTERVAL_SECONDS: "1",
          },
        },
      ],
    }),
  );
}

/** Invokes through the SDK, starts a start-delay experiment with the AWS CLI v2, waits until an invoke is delayed. */
async function delayedByExperiment(endpoints: { lambda: string; fis: string }): Promise<void> {
  const lambda = new LambdaClient({
    endpoint: endpoints.lambda,
    region: "us-east-1",
    credentials: { accessKeyId: "x", secretAccessKey: "x" },
  });
  const invoke = async (n: number) => {
    const start = performance.now();
    const out = await lambda.send(
      new InvokeCommand({ FunctionName: "hello", Payload: JSON.stringify({ n }) }),
    );
    assert.equal(out.FunctionError, undefined);
    assert.deepEqual(JSON.parse(new TextDecoder().decode(out.Payload)), { ok: true, n });
    return performance.now() - start;
  };
  try {
    await invoke(0); // the cold start
    assert.ok((await invoke(0)) < DELAY_MS, "no delay before the experiment");
    const fis = awsCli(awsCliV2, "fis", endpoints.fis);
    const template = join(dir, "delay.json");
    writeFileSync(template, JSON.stringify(delayTemplate()));
    const { experimentTemplate } = await fis(
      "create-experiment-template",
      "--cli-input-json",
      `file://${template}`,
    );
    const { experiment } = await fis("start-experiment", "--experiment-template-id", experimentTemplate.id);
    // Each invoke is an event: the extension polls every second, so the fault shows within a few invokes.
    let delayed = false;
    for (let n = 1; n <= 20 && !delayed; n++) delayed = (await invoke(n)) >= DELAY_MS;
    assert.ok(delayed, "an invocation was delayed by the experiment");
    await fis("stop-experiment", "--id", experiment.id);
  } finally {
    lambda.destroy();
  }
}

function delayTemplate() {
  return {
    description: "pack test: start delay",
    roleArn: "arn:aws:iam::123456789012:role/faultline",
    stopConditions: [{ source: "none" }],
    targets: {
      Functions: {
        resourceType: "aws:lambda:function",
        resourceTags: { FISExperimentReady: "Yes" },
        selectionMode: "ALL",
      },
    },
    actions: {
      delay: {
        actionId: "aws:lambda:invocation-add-delay",
        parameters: {
          duration: "PT60S",
          startupDelayMilliseconds: String(DELAY_MS),
          invocationPercentage: "100",
        },
        targets: { Functions: "Functions" },
      },
    },
  };
}
