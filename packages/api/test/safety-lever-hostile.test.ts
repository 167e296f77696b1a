/**
 * Hostile requests to the safety lever (GetSafetyLever, UpdateSafetyLeverState) as `faultline serve` / `up` serve
 * it (startApi, the console on): unknown and malformed ids, bad and huge bodies, states the input may not name,
 * a missing reason, and what a web page in a browser can send. Each gets FIS's error — ValidationException naming
 * the field, ResourceNotFoundException, ConflictException — in restJson1's shape, nothing is logged as a bug, and
 * the lever is exactly as it was. FIS API reference: UpdateSafetyLeverState (id: at most 64 characters, pattern
 * `[\S]+`; state.status `disengaged | engaged`, state.reason required).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Engine } from "@faultline/engine";
import {
  fuzzServer,
  generatedRequests,
  type HostileRequest,
  hostileCorpus,
  sendRaw,
} from "@faultline/testing";
import { type ApiRequest, createApi, type RunningApi, startApi } from "../src/index.ts";
import { offlineEngine } from "./kit.ts";

const JSON_TYPE = { "content-type": "application/json" };
const LEVER = "/safetyLevers/default";
const DISENGAGED = { status: "disengaged", reason: "Safety lever is disengaged." };

describe("the safety lever API under hostile requests", () => {
  let engine: Engine;
  let api: RunningApi;
  let handle: ReturnType<typeof createApi>;
  const logged: string[] = [];

  before(async () => {
    engine = await offlineEngine();
    api = await startApi(engine, { log: (m) => logged.push(m) });
    handle = createApi(engine, { log: (m) => logged.push(m) });
  });
  after(async () => {
    await api?.close();
    await engine?.close();
  });

  /** One in-process request; returns the status, the error type and the parsed body. */
  async function call(method: string, url: string, body?: string, headers: ApiRequest["headers"] = {}) {
    const res = await handle({
      method,
      url,
      headers: body === undefined ? headers : { ...JSON_TYPE, ...headers },
      body: Buffer.from(body ?? ""),
    });
    return { status: res.status, type: res.headers["x-amzn-errortype"], body: JSON.parse(String(res.body)) };
  }
  const patch = (body: unknown, id = "default") =>
    call("PATCH", `/safetyLevers/${id}/state`, typeof body === "string" ? body : JSON.stringify(body));
  /** The lever, read back: every refused request must have left it untouched. */
  const lever = async () => (await call("GET", LEVER)).body.safetyLever.state;

  test("unknown ids are ResourceNotFoundException; ids FIS's pattern refuses are ValidationException on id", async () => {
    for (const [method, path] of [
      ["GET", "/safetyLevers/nope"],
      ["PATCH", "/safetyLevers/nope/state"],
      ["GET", "/safetyLevers/DEFAULT"],
    ] as const) {
      const r = await call(
        method,
        path,
        method === "PATCH" ? '{"state":{"status":"engaged","reason":"r"}}' : undefined,
      );
      assert.equal(r.status, 404, path);
      assert.equal(r.type, "ResourceNotFoundException", path);
      assert.match(r.body.message, /Safety lever (nope|DEFAULT) not found/);
    }
    for (const id of ["a".repeat(65), "a%20b", "%09"]) {
      const r = await call("GET", `/safetyLevers/${id}`);
      assert.equal(r.status, 400, id);
      assert.equal(r.type, "ValidationException", id);
      assert.match(r.body.message, /^id: /, id);
    }
    assert.equal((await call("GET", "/safetyLevers/")).status, 404, "no id: no operation");
    assert.deepEqual(await lever(), DISENGAGED);
  });

  test("bodies that are not UpdateSafetyLeverState's: ValidationException naming the field and the rule", async () => {
    const cases: [unknown, RegExp][] = [
      ['{"state":', /^\(body\): is not valid JSON/],
      ["", /^\(body\): must be a JSON object/],
      ["null", /^\(body\): must be a JSON object/],
      ["[]", /^\(body\): must be a JSON object/],
      ['"engaged"', /^\(body\): must be a JSON object/],
      [{}, /^state: is required/],
      [{ status: "engaged", reason: "flat" }, /^status: is not a known field/],
      [{ state: "engaged" }, /^state: must be a JSON object/],
      [{ state: [] }, /^state: must be a JSON object/],
      [{ state: { reason: "no status" } }, /^state\.status: must be "engaged" or "disengaged"/],
      // `engaging` is an output state only: the lever gets there by itself.
      [{ state: { status: "engaging", reason: "r" } }, /^state\.status: must be "engaged" or "disengaged"/],
      [{ state: { status: "ENGAGED", reason: "r" } }, /^state\.status: must be "engaged" or "disengaged"/],
      [{ state: { status: 1, reason: "r" } }, /^state\.status: must be "engaged" or "disengaged"/],
      [{ state: { status: "engaged" } }, /^state\.reason: is required/],
      [{ state: { status: "engaged", reason: null } }, /^state\.reason: is required/],
      [{ state: { status: "engaged", reason: 42 } }, /^state\.reason: is required/],
      [{ state: { status: "engaged", reason: "r", force: true } }, /^state\.force: is not a known field/],
      [
        '{"state":{"status":"engaged","reason":"r"},"__proto__":{"polluted":1}}',
        /^__proto__: is not a known field/,
      ],
    ];
    for (const [body, message] of cases) {
      const r = await patch(body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.type, "ValidationException", JSON.stringify(body));
      assert.match(r.body.message, message, JSON.stringify(body));
    }
    assert.equal(({} as { polluted?: number }).polluted, undefined);
    assert.deepEqual(await lever(), DISENGAGED);
  });

  test("a reason that changes without the state is a ConflictException; the same request twice is idempotent", async () => {
    const again = await patch({ state: DISENGAGED });
    assert.equal(again.status, 200);
    assert.deepEqual(again.body.safetyLever.state, DISENGAGED);
    const conflict = await patch({ state: { status: "disengaged", reason: "another reason" } });
    assert.equal(conflict.status, 409);
    assert.equal(conflict.type, "ConflictException");
    assert.deepEqual(await lever(), DISENGAGED);
  });

  test("over HTTP: a body past the limit is refused 413 while it streams in, and the server still serves", async () => {
    const huge = JSON.stringify({ state: { status: "engaged", reason: "x".repeat(1024 * 1024) } });
    const r = await sendRaw(api.url, {
      method: "PATCH",
      target: `${LEVER}/state`,
      headers: JSON_TYPE,
      body: huge,
    });
    assert.equal(r.status, 413, r.body.toString());
    assert.equal(r.headers["x-amzn-errortype"], "RequestEntityTooLargeException");
    const next = await sendRaw(api.url, { method: "GET", target: LEVER });
    assert.equal(next.status, 200);
    assert.deepEqual(JSON.parse(next.body.toString()).safetyLever.state, DISENGAGED);
  });

  test("what a web page can send is refused before the lever moves: foreign origins, simple bodies, rebound hosts", async () => {
    const engage = '{"state":{"status":"engaged","reason":"from a page"}}';
    const refused: [ApiRequest["headers"], number, string][] = [
      // A cross-site fetch() carries Origin (and Sec-Fetch-Site); another port on localhost is another origin.
      [
        { ...JSON_TYPE, origin: "https://evil.example", "sec-fetch-site": "cross-site" },
        403,
        "AccessDeniedException",
      ],
      [
        { ...JSON_TYPE, origin: "http://localhost:9999", host: "localhost:4000" },
        403,
        "AccessDeniedException",
      ],
      [{ ...JSON_TYPE, "sec-fetch-site": "same-site" }, 403, "AccessDeniedException"],
      // A form or a no-cors fetch can send text/plain without a preflight.
      [{ "content-type": "text/plain" }, 415, "UnsupportedMediaTypeException"],
      [{ "content-type": "application/x-www-form-urlencoded" }, 415, "UnsupportedMediaTypeException"],
      // DNS rebinding: a page's own name, resolved to 127.0.0.1.
      [{ ...JSON_TYPE, host: "evil.example:4000" }, 403, "AccessDeniedException"],
    ];
    for (const [headers, status, type] of refused) {
      const res = await handle({
        method: "PATCH",
        url: `${LEVER}/state`,
        headers,
        body: Buffer.from(engage),
      });
      assert.equal(res.status, status, JSON.stringify(headers));
      assert.equal(res.headers["x-amzn-errortype"], type, JSON.stringify(headers));
      assert.equal(res.headers["access-control-allow-origin"], undefined, "no CORS grant");
    }
    // The preflight a browser sends before a cross-origin PATCH gets no CORS grant either.
    const preflight = await handle({
      method: "OPTIONS",
      url: `${LEVER}/state`,
      headers: { origin: "https://evil.example", "access-control-request-method": "PATCH" },
      body: Buffer.alloc(0),
    });
    assert.equal(preflight.status, 403);
    assert.equal(preflight.headers["access-control-allow-origin"], undefined);
    assert.deepEqual(await lever(), DISENGAGED);
  });

  test("wrong methods are MethodNotAllowedException; fuzzed requests on the lever's paths get 4xx, none logged", async () => {
    for (const [method, path] of [
      ["DELETE", LEVER],
      ["PUT", `${LEVER}/state`],
      ["GET", `${LEVER}/state`],
    ] as const) {
      const r = await call(method, path);
      assert.equal(r.status, 405, `${method} ${path}`);
      assert.equal(r.type, "MethodNotAllowedException");
    }
    const paths = [LEVER, `${LEVER}/state`];
    const patches: HostileRequest[] = [
      "null",
      "{",
      `{"state":${"[".repeat(5000)}`,
      '{"state":{"status":{}}}',
    ].map((body) => ({ method: "PATCH", target: `${LEVER}/state`, headers: JSON_TYPE, body }));
    const problems = await fuzzServer({
      url: api.url,
      // The corpus's requests on these paths (api-hostile.test.ts sends the generic ones), and generated ones.
      requests: [
        ...hostileCorpus(paths).filter((r) => r.target.includes("safetyLevers")),
        ...generatedRequests(paths, 40),
        ...patches,
      ],
      problem: (r) => (r.status >= 500 ? `status ${r.status}` : undefined),
      probe: { method: "GET", target: LEVER },
    });
    assert.deepEqual(problems, []);
    assert.deepEqual(logged, [], "no request hit a bug");
    assert.deepEqual(await lever(), DISENGAGED);
  });
});
