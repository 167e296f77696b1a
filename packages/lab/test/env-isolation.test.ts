/**
 * What function code can reach in the lab (issue 9 item 7, docs/security.md) and the process environment Lambda
 * documents for runtimes and extensions (issue 11 items 4 and 5).
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { after, afterEach, describe, it } from "node:test";
import { testLayer } from "../../extension/test/helpers/layer.ts";
import { CollectingLogSink, labOwnedProcesses, makeInput } from "../../testing/src/index.ts";
import type { ExecutionEnvironment, FunctionSpec, InvocationReport } from "../src/contract.ts";
import { createEnvironmentFactory } from "../src/environment/index.ts";
import { RUNTIME_ONLY_VARIABLES } from "../src/environment/lambda-env.ts";
import { hostNodePaths } from "../src/sandbox/host-node.ts";

const fixtures = join(import.meta.dirname, "fixtures", "env-isolation");
const factory = createEnvironmentFactory({ shutdownGraceMs: 500 });
const namespaced = factory.sandbox === "namespace";
const needsNamespace = namespaced ? {} : { skip: "needs the namespace sandbox (run as root)" };
const live: ExecutionEnvironment[] = [];

function create(overrides: Partial<FunctionSpec> = {}): ExecutionEnvironment {
  const env = factory.create(
    {
      name: "isolation",
      arn: "arn:aws:lambda:us-east-1:123456789012:function:isolation",
      region: "us-east-1",
      accountId: "123456789012",
      runtime: "nodejs20.x",
      handler: "index.probe",
      codeDir: join(fixtures, "code"),
      layers: [join(fixtures, "layer")],
      environment: {},
      tags: {},
      timeoutSeconds: 5,
      memorySizeMb: 128,
      ...overrides,
    },
    { extraEnvironment: {} },
    new CollectingLogSink(),
  );
  live.push(env);
  return env;
}

const invoke = (env: ExecutionEnvironment, payload: unknown) =>
  env.invoke(makeInput({ payload: Buffer.from(JSON.stringify(payload)) }));

function body<T = Record<string, unknown>>(r: InvocationReport): T {
  if (r.outcome.kind !== "response")
    assert.fail(`expected a response, got ${JSON.stringify(r.outcome)}\n${r.log}`);
  return JSON.parse(r.outcome.payload.toString()) as T;
}

interface Probe {
  uid: number;
  gid: number;
  pid: number;
  execPath: string;
  home: { dir?: string; user?: string; error?: string };
  readShadow: boolean;
  writeTask: boolean;
  writeOpt: boolean;
  writeTmp: boolean;
  seesLab: boolean;
  readLabEnviron: boolean;
  pids: number[];
  env: Record<string, string>;
  extensionEnv: { pid: number; uid: number; env: Record<string, string> } | null;
}

afterEach(async () => {
  await Promise.all(live.splice(0).map((e) => e.shutdown("spindown")));
});
after(() => assert.deepEqual(labOwnedProcesses(), []));

describe(`isolation of function code (sandbox: ${factory.sandbox})`, () => {
  // Lambda runs functions as sbx_user1051 (uid 993) with a read-only file system except /tmp
  // (Lambda docs: "Lambda execution environment" / configuration-ephemeral-storage: /tmp is the writable path).
  it(
    "runs as Lambda's unprivileged user: /var/task and /opt read-only, /tmp writable, no /etc/shadow, no lab in /proc",
    needsNamespace,
    async () => {
      rmSync(join(fixtures, "code", "planted"), { force: true }); // left by a lab without this isolation
      const p = body<Probe>(await invoke(create(), { labPid: process.pid }));
      assert.equal(p.uid, 993, "uid of sbx_user1051");
      assert.equal(p.gid, 990);
      assert.equal(p.readShadow, false, "/etc/shadow is root's");
      assert.equal(p.writeTask, false, "/var/task is read-only");
      assert.equal(p.writeOpt, false, "/opt (shared by environments with the same layers) is read-only");
      assert.equal(p.writeTmp, true, "/tmp is the function's");
      assert.equal(p.seesLab, false, "the lab's process is not in this /proc");
      assert.equal(p.readLabEnviron, false);
      assert.ok(!existsSync(join(fixtures, "code", "planted")), "nothing reached the code dir on the host");
      assert.ok(
        p.pids.every((n) => n < 100),
        `only the environment's own processes are visible (${p.pids.join(" ")})`,
      );
      assert.equal(p.extensionEnv?.uid, 993, "extensions run as the same user");
      // Lambda has an /etc/passwd entry for sbx_user1051; without one os.homedir() is ENOENT and the SDKs fail.
      assert.deepEqual(p.home, { dir: "/home/sbx_user1051", user: "sbx_user1051" });
    },
  );

  // Lambda docs (lambda-runtime-environment): the runtime and each extension are processes of one execution
  // environment; neither is an init process, so a runtime that SIGTERMs itself dies like anywhere else.
  it(
    "the runtime and extensions share one PID namespace, neither is PID 1; a runtime that SIGTERMs itself exits",
    needsNamespace,
    async () => {
      const env = create();
      const p = body<Probe>(await invoke(env, { labPid: process.pid }));
      assert.notEqual(p.pid, 1);
      assert.ok(
        p.extensionEnv && p.extensionEnv.pid !== 1 && p.pids.includes(p.extensionEnv.pid),
        "the extension is visible beside the runtime",
      );
      const r = await invoke(create({ handler: "index.selfTerm" }), {});
      assert.equal(r.outcome.kind, "function-error");
      if (r.outcome.kind === "function-error") {
        assert.equal(r.outcome.errorType, "Runtime.ExitError");
        assert.match(r.outcome.payload.toString(), /Runtime exited with error: signal: terminated/);
      }
    },
  );
});

describe(`OS-only runtimes have no Node (sandbox: ${factory.sandbox})`, () => {
  // Paths where a Node install lives on hosts like this one, whatever host-node.ts computes.
  const probePaths = [
    ...new Set([
      process.execPath,
      realpathSync(process.execPath),
      "/usr/bin/node",
      "/usr/local/bin/node",
      "/usr/lib/node_modules",
      "/usr/local/lib/node_modules",
      ...hostNodePaths(),
    ]),
  ];
  const provided = (runtime: string) =>
    create({
      runtime,
      handler: "probe",
      codeDir: join(fixtures, "provided"),
      layers: [],
      environment: { PROBE_PATHS: probePaths.join(":") },
    });

  // Lambda docs (runtimes-provided): an OS-only runtime is "an OS environment" for binaries that need no
  // "dedicated language runtime"; so the lab's own node must not be reachable there (an honest no-node proof).
  it(
    "provided.al2023 and provided.al2 (OS-only: runtimes-provided) find no node: not on PATH, not at the host's install paths, /var/lang/bin empty",
    needsNamespace,
    async () => {
      assert.ok(
        probePaths.some((p) => existsSync(p)),
        "the host has a node to hide (this process's own)",
      );
      for (const runtime of ["provided.al2023", "provided.al2"]) {
        const seen = body(await invoke(provided(runtime), {}));
        assert.deepEqual(seen, { nodeOnPath: "", visible: [], langBin: "" }, runtime);
      }
    },
  );

  it("a Node runtime beside them still runs on node at /var/lang/bin/node", needsNamespace, async () => {
    await invoke(provided("provided.al2023"), {});
    const p = body<Probe>(await invoke(create(), { labPid: process.pid }));
    assert.equal(p.execPath, `/var/lang/bin/${basename(realpathSync(process.execPath))}`);
  });
});

describe("environment variables (Lambda docs: configuration-envvars › Defined runtime environment variables)", () => {
  it("the runtime gets Lambda's values for PATH, LD_LIBRARY_PATH, NODE_PATH, X-Ray and the trace id; no stray OLDPWD", async () => {
    const { env } = body<Probe>(await invoke(create(), { labPid: process.pid }));
    if (namespaced) {
      assert.equal(env.PATH, "/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin");
      assert.equal(
        env.LD_LIBRARY_PATH,
        "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib",
      );
      assert.equal(
        env.NODE_PATH,
        "/opt/nodejs/node20/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task",
      );
      assert.equal(env.LAMBDA_RUNTIME_DIR, "/var/runtime");
      assert.equal(env.PWD, "/var/task");
    } else {
      assert.match(env.NODE_PATH ?? "", /node_modules:.*aws-lambda-ric:/);
    }
    assert.equal(env.AWS_XRAY_CONTEXT_MISSING, "LOG_ERROR");
    assert.equal(env.AWS_XRAY_DAEMON_ADDRESS, "169.254.79.129:2000");
    assert.equal(env._AWS_XRAY_DAEMON_ADDRESS, "169.254.79.129");
    assert.equal(env._AWS_XRAY_DAEMON_PORT, "2000");
    assert.equal(
      env._X_AMZN_TRACE_ID,
      makeInput().traceId,
      "set per invocation from Lambda-Runtime-Trace-Id",
    );
    assert.equal(env.OLDPWD, undefined, "no shell leftovers");
  });

  // Extensions API docs: extensions get the function's variables except the runtime-specific ones.
  it("extensions do not see the runtime-only variables (_HANDLER, LAMBDA_TASK_ROOT, log group/stream, X-Ray…)", async () => {
    const p = body<Probe>(await invoke(create({ environment: { FN_OWN: "mine" } }), { labPid: process.pid }));
    const ext = p.extensionEnv?.env ?? assert.fail("the extension wrote its environment");
    for (const name of RUNTIME_ONLY_VARIABLES) {
      assert.equal(ext[name], undefined, `${name} is runtime-only`);
      assert.ok(p.env[name] !== undefined, `the runtime has ${name}`);
    }
    for (const name of [
      "AWS_LAMBDA_FUNCTION_NAME",
      "AWS_LAMBDA_RUNTIME_API",
      "AWS_REGION",
      "FN_OWN",
      "PATH",
    ]) {
      assert.equal(ext[name], p.env[name], `extensions share ${name}`);
    }
    assert.equal(ext.OLDPWD, undefined);
  });
});

describe("/tmp across a reset", () => {
  // Lambda docs (lambda-runtime-environment › Failures during the invoke phase): a crash or timeout resets the
  // execution environment, and "the Lambda reset does not clear the /tmp directory content" before the next init.
  it("a runtime crash resets the same environment: Runtime.ExitError, then a fresh init that still sees /tmp", async () => {
    const env = create({ handler: "index.act" });
    const write = await invoke(env, { action: "writeTmp", name: "kept", content: "from before" });
    assert.equal(body(write) as unknown, "written");
    const crashed = await invoke(env, { action: "crash" });
    assert.equal(crashed.outcome.kind, "function-error");
    if (crashed.outcome.kind === "function-error")
      assert.equal(crashed.outcome.errorType, "Runtime.ExitError");
    assert.equal(env.state, "ready", "the environment is reset, not discarded");
    const again = await invoke(env, { action: "readTmp", name: "kept" });
    assert.ok(again.initDurationMs !== undefined, "the next invocation re-inits");
    assert.equal(body(again) as unknown, "from before");
  });
});

describe("freeze and thaw in the namespace sandbox", needsNamespace, () => {
  // Lambda docs (lambda-runtime-environment › Failures during the invoke phase): a runtime that exits during an
  // invocation fails it with Runtime.ExitError. Each invocation here starts with a thaw of the environment frozen
  // after the one before, the moment a namespace leader (nsenter) could be left stopped, unable to see the exit.
  it("a crash right after a thaw is seen as Runtime.ExitError, every time (20 freeze/thaw cycles)", async () => {
    const env = create({
      runtime: "provided.al2023",
      handler: "echo",
      codeDir: join(import.meta.dirname, "fixtures", "env-provided"),
      layers: [],
      timeoutSeconds: 3,
    });
    for (let i = 0; i < 20; i++) {
      assert.deepEqual(body(await invoke(env, { n: i })).echo, { n: i });
      const crashed = await invoke(env, { action: "crash" });
      assert.deepEqual(
        crashed.outcome.kind === "function-error" ? crashed.outcome.errorType : crashed.outcome.kind,
        "Runtime.ExitError",
        `cycle ${i}`,
      );
    }
  });
});

describe("shutdown", () => {
  // Lambda docs (Extensions API › Shutdown phase; graceful shutdown): with external extensions registered, the
  // runtime gets SIGTERM (and up to 300 ms), then each extension gets SHUTDOWN.
  it("the runtime gets SIGTERM before extensions get SHUTDOWN, and logs no error", async () => {
    const sink = new CollectingLogSink();
    const env = factory.create(
      {
        name: "graceful",
        arn: "arn:aws:lambda:us-east-1:123456789012:function:graceful",
        region: "us-east-1",
        accountId: "123456789012",
        runtime: "nodejs20.x",
        handler: "index.probe",
        codeDir: join(fixtures, "code"),
        layers: [join(fixtures, "layer")],
        environment: { FN_LOG_SIGTERM: "1" },
        tags: {},
        timeoutSeconds: 5,
        memorySizeMb: 128,
      },
      { extraEnvironment: {} },
      sink,
    );
    body(await invoke(env, { labPid: process.pid }));
    await env.shutdown("spindown");
    const text = sink.text();
    const term = text.findIndex((l) => l.includes("RUNTIME got SIGTERM"));
    const shutdown = text.findIndex((l) => l.includes("EXT envdump SHUTDOWN spindown"));
    assert.ok(term >= 0, `the runtime got SIGTERM:\n${text.join("\n")}`);
    assert.ok(shutdown > term, "then the extension got SHUTDOWN");
    assert.ok(!text.some((l) => /Unexpected Top Level Error/.test(l)));
  });
});

describe("network", () => {
  // Lambda gives each execution environment its own network namespace (Lambda isolation whitepaper); the lab does
  // not (docs/security.md), so two environments share 127.0.0.1. The faultline extension prefers 9100 and falls
  // back to an ephemeral port: two concurrent environments must each get their own working proxy.
  it("two environments with the faultline layer at once: each runtime talks to its own proxy port", async () => {
    const dir = mkdtempSync(join(tmpdir(), "faultline-ports-"));
    try {
      const layer = await testLayer(join(dir, "faultline-layer.zip"));
      const spec = {
        layers: [layer.zipPath],
        handler: "index.slowEnv",
        environment: {
          AWS_LAMBDA_EXEC_WRAPPER: "/opt/faultline/bootstrap",
          AWS_FIS_CONFIGURATION_LOCATION: "arn:aws:s3:::faults/fis/",
        },
      };
      const [a, b] = [create(spec), create(spec)];
      const [ra, rb] = await Promise.all([invoke(a, { ms: 300 }), invoke(b, { ms: 300 })]);
      const [pa, pb] = [body<{ api: string }>(ra).api, body<{ api: string }>(rb).api];
      assert.match(pa, /^127\.0\.0\.1:\d+$/);
      assert.notEqual(pa, pb, "each environment's runtime goes through its own proxy");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
