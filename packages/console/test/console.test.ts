/**
 * The console end to end, as a user drives it: Debian's Chromium (playwright-core, headless, no browser download)
 * against a real `faultline up` lab with the `hello` function and the built faultline layer. Create a template
 * through the form (and see the engine's ValidationException next to the field), preview, start, watch it reach
 * `completed` live, open its report; start another from the JSON editor and stop it; the lab page; a foreign
 * origin refused. Every request the console makes goes to its own origin (asserted by interception). Screenshots
 * of the main pages go to $FAULTLINE_CONSOLE_SHOTS (default: a temporary directory, printed).
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, describe, test } from "node:test";
import { chromium as chromiumTool } from "@faultline/testing";
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from "playwright-core";
import { buildLayer } from "../../extension/src/layer.ts";
import { CHROMIUM_ARGS } from "../../report/src/chromium.ts";

const ROOT = join(import.meta.dirname, "..", "..", "..");
const BIN = join(ROOT, "packages", "cli", "bin", "faultline.mjs");
const BUILT = join(ROOT, "packages", "api", "console", "index.html");
const HELLO = join(ROOT, "examples", "hello", "hello");

interface Endpoints {
  lambda: string;
  fis: string;
  console: string;
}

let dir: string;
let shots: string;
let up: ChildProcess | undefined;
let upLog = "";
let e: Endpoints;
let browser: Browser | undefined;
let context: BrowserContext;
let page: Page;
/** Every URL the console's pages requested that is not on its own origin. */
const foreign: string[] = [];
let load: NodeJS.Timeout | undefined;
let stopLoad = () => {};

async function startUp(): Promise<Endpoints> {
  const layer = await buildLayer({ out: join(dir, "faultline-layer.zip") });
  const lab = {
    region: "us-east-1",
    accountId: "123456789012",
    ports: { lambda: 0, s3: 0, fis: 0, cloudwatch: 0 },
    buckets: ["faultline-faults"],
    functions: [
      {
        name: "hello",
        runtime: "nodejs20.x",
        handler: "index.handler",
        code: HELLO,
        layers: [layer.zipPath],
        environment: {
          GREETING: "Hello",
          AWS_LAMBDA_EXEC_WRAPPER: "/opt/faultline/bootstrap",
          AWS_FIS_CONFIGURATION_LOCATION: "arn:aws:s3:::faultline-faults/FisConfigs/",
          AWS_FIS_SLOW_POLL_INTERVAL_SECONDS: "1",
          FAULTLINE_HOT_POLL_INTERVAL_SECONDS: "1",
          AWS_FIS_EXTENSION_METRICS: "all",
        },
        tags: { app: "hello", FISExperimentReady: "Yes" },
        timeout: 5,
        memorySize: 128,
      },
    ],
  };
  writeFileSync(join(dir, "lab.json"), JSON.stringify(lab));
  up = spawn(BIN, ["up", "--json", "-c", join(dir, "lab.json"), "--data-dir", join(dir, "engine")], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  up.stderr?.on("data", (c) => {
    upLog += c;
  });
  const line = once(createInterface({ input: up.stdout! }), "line") as Promise<[string]>;
  const exited = once(up, "exit").then(([code]) => {
    throw new Error(`faultline up exited (${code}) before printing its endpoints: ${upLog}`);
  });
  return JSON.parse((await Promise.race([line, exited]))[0]) as Endpoints;
}

/** Steady traffic on `hello`, one request at a time (one warm environment), so the live chart has data. */
function startLoad(lambda: string): void {
  let running = true;
  const next = () => {
    if (!running) return;
    fetch(`${lambda}/2015-03-31/functions/hello/invocations`, { method: "POST", body: '{"name":"console"}' })
      .then((r) => r.arrayBuffer())
      .catch(() => {})
      .finally(() => {
        load = setTimeout(next, 100);
      });
  };
  next();
  stopLoad = () => {
    running = false;
    if (load) clearTimeout(load);
  };
}

/** What the user sees of an element: Playwright's rendered text (cells and lines separated), not textContent. */
function shown(locator: Locator): Promise<string> {
  // biome-ignore lint/performance/useDomNodeTextContent: Playwright's Locator.innerText, the rendered text
  return locator.innerText();
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
  const res = await fetch(`${e.fis}${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
  });
  return (await res.json()) as T;
};

describe("the web console in Chromium against faultline up", { skip: chromiumTool.skip }, () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "faultline-console-"));
    shots = process.env.FAULTLINE_CONSOLE_SHOTS ?? join(dir, "screenshots");
    mkdirSync(shots, { recursive: true });
    // A checkout whose setup did not build the console yet: build it (about a second).
    if (!existsSync(BUILT)) execFileSync("npm", ["run", "build", "-w", "@faultline/console"], { cwd: ROOT });
    e = await startUp();
    startLoad(e.lambda);
    browser = await chromium.launch({
      executablePath: chromiumTool.require(),
      headless: true,
      args: CHROMIUM_ARGS,
    });
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const origin = new URL(e.console).origin;
    await context.route("**/*", (route) => {
      const url = route.request().url();
      if (new URL(url).origin === origin) return route.continue();
      foreign.push(url);
      return route.abort();
    });
    page = await context.newPage();
    page.setDefaultTimeout(20_000);
  });

  after(async () => {
    stopLoad();
    await browser?.close();
    if (up && up.exitCode === null) {
      up.kill("SIGTERM");
      await once(up, "exit");
    }
    console.log(`console screenshots: ${shots}`);
    if (!process.env.FAULTLINE_CONSOLE_SHOTS) rmSync(dir, { recursive: true, force: true });
  });

  test("faultline up prints the console's URL on the API's port", () => {
    assert.equal(e.console, `${e.fis}/console/`);
  });

  test("create a template through the form: a bad value is shown next to its field, then fixed", async () => {
    await page.goto(e.console);
    await page.getByRole("heading", { name: "Experiment templates" }).waitFor();
    await page.getByRole("link", { name: "New template" }).click();
    await page.getByLabel("Name (tag Name)").fill("hello-delay");
    await page.getByLabel("Description").fill("hello: 300 ms start delay");
    // The action list comes from ListActions; the parameter fields from its definition.
    await page.locator("#f-action").selectOption("aws:lambda:invocation-add-delay");
    const field = (name: string) => page.locator(`[data-field="actions.fault.parameters.${name}"]`);
    await field("duration").fill("PT5S");
    await field("startupDelayMilliseconds").fill("300");
    await field("invocationPercentage").fill("250");
    await page.getByLabel("Before the experiment (ISO 8601)").fill("PT3S");
    await page.getByLabel("After the experiment (ISO 8601)").fill("PT2S");
    await page.getByRole("button", { name: "Create template" }).click();
    await assert.doesNotReject(
      field("invocationPercentage").and(page.locator('[aria-invalid="true"]')).waitFor(),
    );
    const message = await shown(page.locator("#f-actions-fault-parameters-invocationPercentage-err"));
    assert.match(message, /^actions\.fault\.parameters\.invocationPercentage: must be/);
    await shot("template-validation");
    await field("invocationPercentage").fill("100");
    await page.getByRole("button", { name: "Create template" }).click();
    await page.getByRole("heading", { name: "hello-delay" }).waitFor();
    assert.match(page.url(), /#\/templates\/EXT\w+$/);
  });

  test("preview lists the resolved function with its readiness in words and extension version", async () => {
    await page.getByRole("button", { name: "Preview targets" }).click();
    const row = page.locator("table", { hasText: "Resolved targets" }).locator("tbody tr");
    await row.first().waitFor();
    assert.equal(await row.count(), 1);
    const text = await shown(row.first());
    assert.match(text, /hello/);
    assert.match(text, /Ready: its extension will read this experiment's faults/);
    assert.match(text, /faultline/);
    assert.match(text, /version \d+\.\d+\.\d+/);
    await shot("template-preview");
  });

  test("start asks first, naming the targets; the experiment reaches completed live, with metrics and a report", async () => {
    await page.getByRole("button", { name: "Start experiment…" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.waitFor();
    assert.match(await shown(dialog), /This is not a simulation[\s\S]*hello/);
    await dialog.getByRole("button", { name: "Start: inject faults into 1 function" }).click();
    await page.waitForURL(/#\/experiments\/EXP\w+$/);
    const state = page.getByTestId("state");
    await state.filter({ hasText: /^running/ }).waitFor();
    // The chart fills from the event stream while it runs: invocations and injected faults, no reload.
    const caption = page.locator("figcaption");
    await caption.filter({ hasText: /[1-9]\d* faults injected/ }).waitFor({ timeout: 15_000 });
    await shot("experiment-running");
    // Browser-side expressions as strings: this file is type-checked for Node, not the DOM.
    const NAVIGATIONS = 'performance.getEntriesByType("navigation").length';
    const navigations = await page.evaluate(NAVIGATIONS);
    await state.filter({ hasText: /^completed/ }).waitFor({ timeout: 30_000 });
    assert.equal(await page.evaluate(NAVIGATIONS), navigations);
    assert.match(await shown(page.locator(".timeline")), /fault[\s\S]*completed/);
    // The log's last record is written beside the final state change; the stream tails it within a second.
    await page.locator("ol.log", { hasText: "experiment-end" }).waitFor({ timeout: 5000 });
    assert.match(
      await shown(page.locator("ol.log")),
      /experiment-start[\s\S]*action-end[\s\S]*experiment-end/,
    );
    // The report follows its post-experiment window (PT2S); the page shows it when the engine says it is done.
    await page.getByRole("link", { name: "Open the HTML report" }).waitFor({ timeout: 30_000 });
    const id = page.url().split("/").pop()!;
    const frame = page.frameLocator("iframe.report");
    await frame.locator("body", { hasText: id }).waitFor();
    const pdf = await page.evaluate(
      async (href) => {
        const r = await fetch(href);
        return { status: r.status, type: r.headers.get("content-type"), head: (await r.text()).slice(0, 5) };
      },
      (await page.getByRole("link", { name: "Download the PDF" }).getAttribute("href"))!,
    );
    assert.deepEqual(pdf, { status: 200, type: "application/pdf", head: "%PDF-" });
    await shot("experiment-report");
  });

  test("a template from the JSON editor (its error shown at the field's line), started and stopped", async () => {
    await page.goto(`${e.console}#/templates/new`);
    await page.getByRole("button", { name: "JSON" }).click();
    const editor = page.locator("#json");
    const body = JSON.parse(await editor.inputValue()) as {
      actions: { fault: { parameters: Record<string, string> } };
      tags?: Record<string, string>;
      description: string;
    };
    body.description = "hello: long delay, to be stopped";
    body.tags = { Name: "hello-stop" };
    body.actions.fault.parameters.duration = "PT2M";
    body.actions.fault.parameters.startupDelayMilliseconds = "slow";
    await editor.fill(JSON.stringify(body, null, 2));
    await page.getByRole("button", { name: "Create template" }).click();
    const error = page.locator("#json-err");
    await error.waitFor();
    assert.match(await shown(error), /line \d+: actions\.fault\.parameters\.startupDelayMilliseconds: /);
    const line = Number(/line (\d+)/.exec(await shown(error))![1]);
    assert.match((await editor.inputValue()).split("\n")[line - 1]!, /"startupDelayMilliseconds"/);
    await shot("template-json-error");
    body.actions.fault.parameters.startupDelayMilliseconds = "200";
    await editor.fill(JSON.stringify(body, null, 2));
    await page.getByRole("button", { name: "Create template" }).click();
    await page.getByRole("heading", { name: "hello-stop" }).waitFor();
    await page.getByRole("button", { name: "Start experiment…" }).click();
    await page
      .getByRole("dialog")
      .getByRole("button", { name: /^Start: inject faults/ })
      .click();
    const state = page.getByTestId("state");
    await state.filter({ hasText: /^running/ }).waitFor();
    await page.getByRole("button", { name: "Stop experiment" }).click();
    await state.filter({ hasText: /^stopped/ }).waitFor();
    // The button goes with the terminal state (it may trail the state text by a render).
    await page
      .getByRole("button", { name: "Stop experiment" })
      .waitFor({ state: "detached", timeout: 5_000 });
    await shot("experiment-stopped");
  });

  test("a template from a scenario: its parameters checked beside their fields, its template created", async () => {
    await page.goto(`${e.console}#/templates`);
    await page.getByRole("link", { name: "New from a scenario" }).click();
    await page.getByRole("heading", { name: "New template from a scenario" }).waitFor();
    await page.getByLabel("Scenario", { exact: true }).selectOption("brownout");
    await page.waitForURL(/#\/scenarios\/brownout$/);
    const param = (name: string) => page.locator(`[data-field="scenario.${name}"]`);
    // The scenario library's own check, before anything is sent: the field it names says why.
    await param("errorPercentages").fill("5,500");
    await page.locator("#f-scenario-errorPercentages-err").waitFor();
    assert.match(
      await shown(page.locator("#f-scenario-errorPercentages-err")),
      /^errorPercentages: must be a comma-separated list of whole percentages from 1 to 100, got "500"/,
    );
    await param("errorPercentages").fill("5,50");
    await param("stageSeconds").fill("2");
    const editor = page.locator("#json");
    // The template is rebuilt as the parameters change (the textarea's value, not its text content).
    await page.waitForFunction('document.querySelector("#json").value.includes(\'"duration": "PT2S"\')');
    const built = JSON.parse(await editor.inputValue()) as {
      actions: Record<
        string,
        { actionId: string; parameters: Record<string, string>; startAfter?: string[] }
      >;
    };
    assert.deepEqual(Object.keys(built.actions), ["stage1", "stage2"]);
    assert.deepEqual(built.actions.stage2!.startAfter, ["stage1"]);
    assert.equal(built.actions.stage2!.parameters.invocationPercentage, "50");
    // Edited by hand into something the engine refuses: its ValidationException at that line, as for any JSON.
    built.actions.stage2!.parameters.duration = "two seconds";
    await editor.fill(JSON.stringify(built, null, 2));
    await page.getByRole("button", { name: "Create template" }).click();
    await page.locator("#json-err").waitFor();
    assert.match(await shown(page.locator("#json-err")), /line \d+: actions\.stage2\.parameters\.duration: /);
    await shot("template-scenario");
    built.actions.stage2!.parameters.duration = "PT2S";
    await editor.fill(JSON.stringify(built, null, 2));
    await page.getByRole("button", { name: "Create template" }).click();
    await page.getByRole("heading", { name: "faultline-brownout" }).waitFor();
    await page.goto(`${e.console}#/templates`);
    // The list's actions arrive after its rows (one GetExperimentTemplate each): wait for them, not the row.
    const row = page.locator("tbody tr", { hasText: "faultline-brownout" }).filter({ hasText: "×2" });
    await row.waitFor();
    assert.match(
      await shown(row),
      /brownout: 5 % → 50 % errors, 2 s each[\s\S]*aws:lambda:invocation-error ×2/,
    );
    await shot("templates");
    const listed = await api<{ experimentTemplates: { id: string; tags: Record<string, string> }[] }>(
      "GET",
      "/experimentTemplates",
    );
    const created = listed.experimentTemplates.find((t) => t.tags.scenario === "brownout");
    assert.ok(created, "a template tagged scenario=brownout");
    const got = await api<{ experimentTemplate: { actions: Record<string, { startAfter?: string[] }> } }>(
      "GET",
      `/experimentTemplates/${created.id}`,
    );
    assert.deepEqual(got.experimentTemplate.actions.stage2!.startAfter, ["stage1"]);
  });

  test("experiments list filters by state; finished ones link their report", async () => {
    await page.goto(`${e.console}#/experiments`);
    await page.getByRole("heading", { name: "Experiments" }).waitFor();
    const rows = page.locator("tbody tr");
    await rows.nth(1).waitFor();
    assert.equal(await rows.count(), 2, "two experiments; the preview is hidden");
    await page.getByLabel("State").selectOption("completed");
    await rows.filter({ hasText: "stopped" }).waitFor({ state: "detached" });
    assert.equal(await rows.count(), 1);
    await rows.first().getByRole("link", { name: "report" }).waitFor({ timeout: 5000 });
    await page.getByLabel("State").selectOption("");
    await shot("experiments");
  });

  test("the lab page shows the function, its environments in words and recent invocations", async () => {
    await page.goto(`${e.console}#/lab`);
    await page.getByRole("heading", { name: "Recent invocations" }).waitFor();
    const fn = await shown(page.locator("table").first());
    assert.match(
      fn,
      /hello[\s\S]*nodejs20\.x[\s\S]*(running an invocation|warm, frozen between invocations)/,
    );
    assert.match(await shown(page.locator("table").nth(1)), /hello\s+success/);
    await shot("lab");
  });

  test("the safety lever: shown and usable when the API has it, hidden when it answers 404", async () => {
    await page.goto(`${e.console}#/templates`);
    await page.getByRole("heading", { name: "Experiment templates" }).waitFor();
    const res = await fetch(`${e.fis}/safetyLevers/default`);
    const lever = page.getByText("Safety lever:");
    if (res.status === 404) {
      // The console asked too (GET on load); give it the time to answer, then it must show nothing.
      await page.waitForLoadState("networkidle");
      assert.equal(await lever.count(), 0);
      return;
    }
    await lever.waitFor();
    await page.getByRole("button", { name: "Engage…" }).click();
    await page.getByLabel("Reason").fill("console e2e");
    await page.getByRole("button", { name: /^Engage/ }).click();
    await page.locator(".lever.engaged").waitFor();
    await shot("lever-engaged");
    await page.getByRole("button", { name: "Disengage…" }).click();
    await page.getByLabel("Reason").fill("done");
    await page.getByRole("button", { name: "Disengage" }).click();
    await page.locator(".lever:not(.engaged)").waitFor();
  });

  test("narrow window: pages stay readable without horizontal scrolling of the page", async () => {
    await page.setViewportSize({ width: 420, height: 800 });
    for (const hash of ["#/templates", "#/experiments", "#/lab"]) {
      await page.goto(`${e.console}${hash}`);
      await page.locator("main h1").waitFor();
      const overflow = (await page.evaluate("document.documentElement.scrollWidth - innerWidth")) as number;
      assert.ok(overflow <= 1, `${hash}: the page is ${overflow}px wider than the window`);
    }
    await shot("narrow-experiments");
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  test("keyboard: the navigation and the form are reachable with Tab", async () => {
    await page.goto(`${e.console}#/templates`);
    await page.locator("main h1").waitFor();
    const focused: string[] = [];
    // From the page heading: its buttons, the templates' links, then round to the skip link and the navigation.
    for (let i = 0; i < 20 && !(focused.includes("Experiments") && focused.includes("New template")); i++) {
      await page.keyboard.press("Tab");
      focused.push((await page.evaluate('document.activeElement?.textContent?.trim() ?? ""')) as string);
    }
    assert.ok(focused.includes("Experiments"), focused.join(" | "));
    assert.ok(focused.includes("New template"), focused.join(" | "));
  });

  test("no request left the console's origin", () => {
    assert.deepEqual(foreign, []);
  });

  test("a page of another origin (another port on localhost) cannot drive the API", async () => {
    const before = await api<{ experimentTemplates: unknown[] }>("GET", "/experimentTemplates");
    const evil = createServer((_req, res) => res.end("<!doctype html><title>evil</title>"));
    evil.listen(0, "127.0.0.1");
    await once(evil, "listening");
    const other = await browser!.newContext();
    try {
      const p = await other.newPage();
      await p.goto(`http://127.0.0.1:${(evil.address() as AddressInfo).port}/`);
      const outcome = await p.evaluate(async (fis) => {
        // A "simple" request needs no CORS preflight: the browser sends it; the API must refuse it.
        await fetch(`${fis}/experimentTemplates`, {
          method: "POST",
          mode: "no-cors",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ description: "evil", actions: {}, stopConditions: [{ source: "none" }] }),
        }).catch(() => undefined);
        await fetch(`${fis}/experiments/x`, { method: "DELETE", mode: "no-cors" }).catch(() => undefined);
        try {
          await fetch(`${fis}/experimentTemplates`);
          return "read";
        } catch {
          return "blocked";
        }
      }, e.fis);
      assert.equal(outcome, "blocked");
      const refused = await fetch(`${e.fis}/experimentTemplates`, {
        headers: {
          origin: `http://127.0.0.1:${(evil.address() as AddressInfo).port}`,
          "sec-fetch-site": "same-site",
        },
      });
      assert.equal(refused.status, 403);
      const now = await api<{ experimentTemplates: unknown[] }>("GET", "/experimentTemplates");
      assert.equal(now.experimentTemplates.length, before.experimentTemplates.length);
    } finally {
      await other.close();
      evil.close();
    }
  });
});
