import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type Faultline, serveFaultline } from "@faultline/api";
import { ManualClock } from "@faultline/engine";
import { Moto, readyEnv } from "../../engine/test/moto.ts";
import { seedTemplate } from "../../engine/test/seed.ts";
import { runCli } from "./run-cli.ts";

let moto: Moto;
let f: Faultline;
let dir: string;
const clock = new ManualClock();

before(async () => {
  moto = await Moto.start();
  dir = mkdtempSync(join(tmpdir(), "faultline-cli-report-"));
  await moto.bucket("faults");
  const layer = await moto.layer();
  await moto.fn("rep1", { tags: { FISExperimentReady: "Yes" }, layer, env: readyEnv("faults") });
  f = await serveFaultline({
    dataDir: join(dir, "data"),
    endpoints: { lambda: moto.endpoint, s3: moto.endpoint, cloudwatch: moto.endpoint },
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    clock,
    reportPdf: false,
    log: () => {},
  });
});
after(async () => {
  await f?.close();
  await moto?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const cli = (...args: string[]) => runCli(f.url, ...args);

/** Runs a 10 s experiment to its end on the manual clock, then lets its post window pass. */
async function finishedExperiment(reportConfiguration?: Record<string, unknown>) {
  const t = seedTemplate();
  t.actions.lat.parameters.duration = "PT10S";
  if (reportConfiguration) t.experimentReportConfiguration = reportConfiguration;
  const template = await f.engine.createExperimentTemplate(t);
  const x = await f.engine.startExperiment({ experimentTemplateId: template.id });
  await f.engine.idle(x.id);
  clock.advance(10_000);
  await f.engine.settled(x.id);
  clock.advance(1000);
  await f.engine.reportSettled(x.id);
  return x.id;
}

describe("report route (faultline's extension of the FIS API) and faultline report", () => {
  test("GetExperiment shows experimentReport; faultline report writes the HTML through the API", async () => {
    const id = await finishedExperiment({ preExperimentDuration: "PT1S", postExperimentDuration: "PT1S" });
    const got = (await (await fetch(`${f.url}/experiments/${id}`)).json()) as {
      experiment: { experimentReport: { state: { status: string } }; experimentReportConfiguration: unknown };
    };
    assert.equal(got.experiment.experimentReport.state.status, "completed");
    assert.deepEqual(got.experiment.experimentReportConfiguration, {
      preExperimentDuration: "PT1S",
      postExperimentDuration: "PT1S",
    });
    const out = join(dir, "out");
    const r = await cli("report", id, "--out", out);
    assert.equal(r.code, 0, r.stderr);
    const path = join(out, `${id}.html`);
    assert.equal(r.stdout, `${path}\n`);
    const html = readFileSync(path, "utf8");
    assert.match(html, /^<!doctype html>/i);
    assert.match(html, new RegExp(id));
    assert.ok(!existsSync(join(out, `${id}.pdf`)), "no PDF when the engine printed none");
  });

  test("the route: html by default, pdf 404 with the reason, bad format names the field", async () => {
    const id = await finishedExperiment({ postExperimentDuration: "PT1S" });
    const html = await fetch(`${f.url}/faultline/experiments/${id}/report`);
    assert.equal(html.status, 200);
    assert.match(html.headers.get("content-type") ?? "", /^text\/html/);
    const pdf = await fetch(`${f.url}/faultline/experiments/${id}/report?format=pdf`);
    assert.equal(pdf.status, 404);
    assert.equal(pdf.headers.get("x-amzn-errortype"), "ResourceNotFoundException");
    const bad = await fetch(`${f.url}/faultline/experiments/${id}/report?format=doc`);
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { message: string }).message, /^format: /);
    const missing = await fetch(`${f.url}/faultline/experiments/EXPnope/report`);
    assert.equal(missing.status, 404);
  });

  test("no report yet (no configuration): faultline report builds one; --rebuild --json; unknown id fails", async () => {
    const id = await finishedExperiment();
    assert.equal(f.engine.getExperiment(id).experimentReport, undefined);
    const out = join(dir, "out2");
    const r = await cli("report", id, "--out", out);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(join(out, `${id}.html`)));
    const again = await cli("report", id, "--out", out, "--rebuild", "--json");
    assert.equal(again.code, 0, again.stderr);
    const parsed = JSON.parse(again.stdout);
    assert.equal(parsed.experimentReport.state.status, "completed");
    assert.equal(parsed.files.html, join(out, `${id}.html`));
    const unknown = await cli("report", "EXPmissing", "--out", out);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /EXPmissing not found/);
  });

  test("a running experiment has no report yet: 409 from the build route", async () => {
    const t = seedTemplate();
    const template = await f.engine.createExperimentTemplate(t);
    const x = await f.engine.startExperiment({ experimentTemplateId: template.id });
    await f.engine.idle(x.id);
    const built = await fetch(`${f.url}/faultline/experiments/${x.id}/report`, { method: "POST" });
    assert.equal(built.status, 409);
    f.engine.stopExperiment(x.id);
    await f.engine.settled(x.id);
  });
});

describe("signed requests (docs/api.md: auth.credentials / serve --verify-signatures)", () => {
  test("faultline report signs with the caller's credentials: accepted with the right secret, 403 with a wrong one", async () => {
    const id = await finishedExperiment({ postExperimentDuration: "PT1S" });
    // A second API over the same engine state would race it; a verifying API in front of a fresh engine is enough.
    const secured = await serveFaultline({
      dataDir: join(dir, "secured"),
      endpoints: { lambda: moto.endpoint, s3: moto.endpoint, cloudwatch: moto.endpoint },
      credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
      clock,
      reportPdf: false,
      auth: { credentials: { AKIDREPORT: "report-secret" } },
      log: () => {},
    });
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    try {
      process.env.AWS_ACCESS_KEY_ID = "AKIDREPORT";
      process.env.AWS_SECRET_ACCESS_KEY = "wrong";
      const refused = await runCli(secured.url, "report", id, "--out", join(dir, "signed"));
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /HTTP 403/);
      process.env.AWS_SECRET_ACCESS_KEY = "report-secret";
      // Signed correctly the request reaches the route: this engine has no such experiment (404), not 403.
      const accepted = await runCli(secured.url, "report", id, "--out", join(dir, "signed"));
      assert.doesNotMatch(accepted.stderr, /403/);
      assert.match(accepted.stderr, /HTTP 404/);
      const unsigned = await fetch(`${secured.url}/faultline/experiments/${id}/report`);
      assert.equal(unsigned.status, 403, "the route itself still requires a signature");
    } finally {
      for (const [k, v] of [
        ["AWS_ACCESS_KEY_ID", saved.id],
        ["AWS_SECRET_ACCESS_KEY", saved.secret],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      await secured.close();
    }
  });
});
