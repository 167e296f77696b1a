import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { makeInput, type RawResponse, rawRequest } from "../../testing/src/index.ts";
import { ExtensionsApi } from "../src/extensions-api/index.ts";
import { type RuntimeApiServer, startRuntimeApi } from "../src/runtime-api/index.ts";

const metadata = { functionName: "fn", functionVersion: "$LATEST", handler: "index.handler" };

describe("Extensions API (2020-01-01) on the Runtime API's host:port", () => {
  let api: RuntimeApiServer;
  let ext: ExtensionsApi;
  beforeEach(async () => {
    ext = new ExtensionsApi(metadata);
    api = await startRuntimeApi({ routes: ext.routes });
    api.onDispatch((inv) => ext.dispatchInvoke(inv));
  });
  afterEach(() => api.close());

  const register = (name: string | undefined, events: unknown) =>
    rawRequest(
      api.address,
      "POST",
      "/2020-01-01/extension/register",
      JSON.stringify({ events }),
      name ? { "Lambda-Extension-Name": name } : {},
    );
  const next = (id: string) =>
    rawRequest(api.address, "GET", "/2020-01-01/extension/event/next", undefined, {
      "Lambda-Extension-Identifier": id,
    });
  const json = (r: RawResponse) => JSON.parse(r.body.toString()) as Record<string, unknown>;
  const errorType = (r: RawResponse) => json(r).errorType;

  it("register returns the identifier and the function metadata", async () => {
    const r = await register("probe", ["INVOKE", "SHUTDOWN"]);
    assert.equal(r.status, 200);
    assert.match(String(r.headers["lambda-extension-identifier"]), /^[0-9a-f-]{36}$/);
    assert.deepEqual(json(r), metadata);
    assert.deepEqual(
      ext.list().map((e) => [e.name, e.events, e.state]),
      [["probe", ["INVOKE", "SHUTDOWN"], "registered"]],
    );
  });

  it("accountId only for extensions that accept the feature", async () => {
    const withAccount = new ExtensionsApi({ ...metadata, accountId: "123456789012" });
    const server = await startRuntimeApi({ routes: withAccount.routes });
    try {
      const plain = await rawRequest(
        server.address,
        "POST",
        "/2020-01-01/extension/register",
        '{"events":[]}',
        {
          "Lambda-Extension-Name": "plain",
        },
      );
      assert.deepEqual(json(plain), metadata);
      const featured = await rawRequest(
        server.address,
        "POST",
        "/2020-01-01/extension/register",
        '{"events":[]}',
        {
          "Lambda-Extension-Name": "featured",
          "Lambda-Extension-Accept-Feature": "accountId",
        },
      );
      assert.deepEqual(json(featured), { ...metadata, accountId: "123456789012" });
    } finally {
      await server.close();
    }
  });

  it("INVOKE reaches the extension with the invocation's fields; completion waits for its next /next", async () => {
    const id = String((await register("probe", ["INVOKE"])).headers["lambda-extension-identifier"]);
    const firstNext = next(id); // ends the extension's init, parks it
    await ext.whenAllReady();
    const input = makeInput();
    const outcome = api.invoke(input, { deadlineMs: 1_900_000_000_000 });
    const runtimeNext = await rawRequest(api.address, "GET", "/2018-06-01/runtime/invocation/next");
    assert.equal(runtimeNext.status, 200);
    const event = json(await firstNext);
    assert.deepEqual(event, {
      eventType: "INVOKE",
      deadlineMs: 1_900_000_000_000,
      requestId: input.requestId,
      invokedFunctionArn: input.invokedFunctionArn,
      tracing: { type: "X-Amzn-Trace-Id", value: input.traceId },
    });
    assert.equal(ext.allReady(), false, "the extension holds the INVOKE event");
    await rawRequest(api.address, "POST", `/2018-06-01/runtime/invocation/${input.requestId}/response`, "{}");
    await outcome;
    assert.equal(
      ext.allReady(),
      false,
      "runtime responded but the extension has not asked for its next event",
    );
    const shutdownNext = next(id);
    await ext.whenAllReady();
    ext.dispatchShutdown("spindown", 1_900_000_002_000);
    // Not subscribed to SHUTDOWN: nothing is delivered, the long poll stays parked until the server closes.
    assert.equal(ext.subscribers("SHUTDOWN"), 0);
    shutdownNext.catch(() => {});
  });

  it("SHUTDOWN reaches subscribers with reason and deadline", async () => {
    const id = String((await register("probe", ["SHUTDOWN"])).headers["lambda-extension-identifier"]);
    const pending = next(id);
    await ext.whenAllReady();
    ext.dispatchShutdown("timeout", 1234);
    const r = await pending;
    assert.ok(r.headers["lambda-extension-event-identifier"]);
    assert.deepEqual(json(r), { eventType: "SHUTDOWN", shutdownReason: "timeout", deadlineMs: 1234 });
  });

  it("refuses bad registrations with Lambda's error types", async () => {
    assert.equal(errorType(await register(undefined, ["INVOKE"])), "Extension.InvalidExtensionName");
    assert.equal(errorType(await register("x", ["BOGUS"])), "Extension.InvalidEventType");
    assert.equal((await register("dup", [])).status, 200);
    const dup = await register("dup", []);
    assert.equal(dup.status, 403);
    assert.equal(errorType(dup), "Extension.InvalidExtensionState");
    ext.closeRegistration();
    assert.equal(errorType(await register("late", [])), "Extension.RegistrationClosed");
  });

  it("refuses unidentified callers and illegal moves", async () => {
    const noId = await rawRequest(api.address, "GET", "/2020-01-01/extension/event/next");
    assert.equal(noId.status, 403);
    assert.equal(errorType(noId), "Extension.MissingExtensionIdentifier");
    assert.equal(errorType(await next("not-a-uuid")), "Extension.InvalidExtensionIdentifier");
    assert.equal(
      errorType(await next("00000000-0000-0000-0000-000000000000")),
      "Extension.UnknownExtensionIdentifier",
    );
    const id = String((await register("probe", ["INVOKE"])).headers["lambda-extension-identifier"]);
    const missingHeader = await rawRequest(api.address, "POST", "/2020-01-01/extension/init/error", "{}", {
      "Lambda-Extension-Identifier": id,
    });
    assert.equal(errorType(missingHeader), "Extension.MissingHeader");
    const parked = next(id);
    await ext.whenAllReady();
    const late = await rawRequest(api.address, "POST", "/2020-01-01/extension/init/error", "{}", {
      "Lambda-Extension-Identifier": id,
      "Lambda-Extension-Function-Error-Type": "Extension.Boom",
    });
    assert.equal(late.status, 403, "init/error after init is an illegal transition");
    assert.equal(errorType(late), "Extension.InvalidExtensionState");
    parked.catch(() => {});
  });

  it("init/error and exit/error are reported with their type and body", async () => {
    const reports: string[] = [];
    ext.onError((kind, r) => reports.push(`${kind}:${r.extension}:${r.errorType}:${r.payload.toString()}`));
    const a = String((await register("a", [])).headers["lambda-extension-identifier"]);
    const b = String((await register("b", [])).headers["lambda-extension-identifier"]);
    const ra = await rawRequest(api.address, "POST", "/2020-01-01/extension/init/error", '{"m":1}', {
      "Lambda-Extension-Identifier": a,
      "Lambda-Extension-Function-Error-Type": "Extension.ConfigInvalid",
    });
    assert.equal(ra.status, 202);
    const rb = await rawRequest(api.address, "POST", "/2020-01-01/extension/exit/error", '{"m":2}', {
      "Lambda-Extension-Identifier": b,
      "Lambda-Extension-Function-Error-Type": "Extension.Crash",
    });
    assert.equal(rb.status, 202);
    assert.deepEqual(reports, [
      'init-error:a:Extension.ConfigInvalid:{"m":1}',
      'exit-error:b:Extension.Crash:{"m":2}',
    ]);
  });
});
