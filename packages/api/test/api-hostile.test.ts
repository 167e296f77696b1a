/**
 * Issue 9.1 for the FIS API: a corpus of hostile requests plus fast-check-generated ones, over raw sockets, against
 * a real engine (SQLite in memory; AWS endpoints that are never reached, as no experiment starts). Every reply must
 * be a 2xx/4xx in restJson1's error shape (`x-amzn-errortype` + `{"message"}`) and the API must still serve; a
 * handler bug must answer 500 for that request alone and be logged.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Engine } from "@faultline/engine";
import {
  deepJson,
  fuzzServer,
  generatedRequests,
  type HostileRequest,
  hostileCorpus,
  isParserRefusal,
  type RawReply,
  sendRaw,
} from "@faultline/testing";
import { createApi, type RunningApi, startApi } from "../src/index.ts";
import { offlineEngine } from "./kit.ts";

const text = (r: RawReply) => r.body.toString("utf8");

/** restJson1: `x-amzn-errortype` and `{"message": …}`. */
function fisShape(r: RawReply, req: HostileRequest): string | undefined {
  if (r.status < 400 || isParserRefusal(r) || req.method === "HEAD") return undefined;
  if (!r.headers["x-amzn-errortype"]) return "no x-amzn-errortype";
  try {
    return typeof JSON.parse(text(r)).message === "string" ? undefined : `no message: ${text(r)}`;
  } catch {
    return `not JSON: ${text(r)}`;
  }
}

describe("FIS API under hostile requests (issue 9.1)", () => {
  let engine: Engine;
  let api: RunningApi;
  const logged: string[] = [];
  const json = { "content-type": "application/json" };

  before(async () => {
    engine = await offlineEngine();
    api = await startApi(engine, { log: (m) => logged.push(m) });
  });
  after(async () => {
    await api?.close();
    await engine?.close();
  });

  test("the issue's requests: /// and a deep tag value get 4xx", async () => {
    const root = await sendRaw(api.url, { method: "GET", target: "///" });
    assert.equal(root.status, 404, text(root));
    assert.equal(root.headers["x-amzn-errortype"], "UnknownOperationException");
    const badEscape = await sendRaw(api.url, { method: "GET", target: "/experimentTemplates/EXT%E0%A4" });
    assert.equal(badEscape.status, 400, text(badEscape));
    for (const body of [
      `{"tags":{"k":${deepJson(5000, '"v"')}}}`,
      `{"description":"d","roleArn":"arn:aws:iam::123456789012:role/r","stopConditions":[{"source":"none"}],"actions":{},"tags":{"k":${deepJson(5000, '"v"')}}}`,
    ]) {
      const r = await sendRaw(api.url, {
        method: "POST",
        target: "/experimentTemplates",
        headers: json,
        body,
      });
      assert.equal(r.status, 400, text(r));
      assert.equal(r.headers["x-amzn-errortype"], "ValidationException");
    }
    const created = await sendRaw(api.url, {
      method: "POST",
      target: "/experimentTemplates",
      headers: json,
      body: JSON.stringify({
        description: "d",
        roleArn: "arn:aws:iam::123456789012:role/r",
        stopConditions: [{ source: "none" }],
        actions: { wait: { actionId: "aws:fis:wait", parameters: { duration: "PT1M" } } },
      }),
    });
    assert.equal(created.status, 200, text(created));
    const arn = JSON.parse(text(created)).experimentTemplate.arn as string;
    // TagResource stored the value as is: a 5000-deep one overflowed the stack when saved (500).
    const tag = await sendRaw(api.url, {
      method: "POST",
      target: `/tags/${encodeURIComponent(arn)}`,
      headers: json,
      body: `{"tags":{"k":${deepJson(5000, '"v"')}}}`,
    });
    assert.equal(tag.status, 400, text(tag));
    assert.equal(tag.headers["x-amzn-errortype"], "ValidationException");
    assert.match(JSON.parse(text(tag)).message, /^tags\.k: /);
  });

  test("fuzz: every route, hostile and generated requests", async () => {
    const paths = [
      "/experimentTemplates",
      "/experimentTemplates/EXT1",
      "/experimentTemplates/EXT1/targetAccountConfigurations/123456789012",
      "/experiments",
      "/experiments/EXP1",
      "/experiments/EXP1/resolvedTargets",
      "/actions/aws:lambda:invocation-error",
      "/targetResourceTypes/aws:lambda:function",
      "/tags/arn%3Aaws%3Afis%3Aus-east-1%3A123456789012%3Aexperiment%2FEXP1",
      "/faultline/experiments/EXP1/report",
    ];
    const problems = await fuzzServer({
      url: api.url,
      requests: [...hostileCorpus(paths), ...generatedRequests(paths, 150)],
      problem: fisShape,
      probe: { method: "GET", target: "/experimentTemplates" },
    });
    assert.deepEqual(problems, []);
    assert.deepEqual(logged, [], "no request hit a bug");
  });

  test("a handler bug answers 500 for that request alone, logged; the next request is served", async () => {
    const log: string[] = [];
    const broken = new Proxy(engine, {
      get: (target, key, receiver) =>
        key === "listExperimentTemplates"
          ? () => {
              throw new TypeError("bug on purpose");
            }
          : Reflect.get(target, key, receiver),
    });
    const handle = createApi(broken, { log: (m) => log.push(m) });
    const failed = await handle({
      method: "GET",
      url: "/experimentTemplates",
      headers: {},
      body: Buffer.alloc(0),
    });
    assert.equal(failed.status, 500);
    assert.equal(failed.headers["x-amzn-errortype"], "InternalServerException");
    assert.equal(log.length, 1);
    assert.match(log[0]!, /bug on purpose/);
    const next = await handle({ method: "GET", url: "/actions", headers: {}, body: Buffer.alloc(0) });
    assert.equal(next.status, 200);
  });

  test("allowedHosts names a host without its port; other names are still refused", async () => {
    const handle = createApi(engine, { allowedHosts: ["fis.internal"] });
    const get = (host: string) =>
      handle({ method: "GET", url: "/actions", headers: { host }, body: Buffer.alloc(0) });
    assert.equal((await get("fis.internal:4000")).status, 200);
    assert.equal((await get("FIS.internal")).status, 200);
    assert.equal((await get("localhost:4000")).status, 200);
    assert.equal((await get("fis.internal.attacker.example")).status, 403);
  });
});
