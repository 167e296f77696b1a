/** How another Runtime API implementation is named to the conformance suite (environment and HTTP invoke). */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { describe, it } from "node:test";
import { conformanceTargetFromEnvironment, invokeOverHttp, makeInput } from "../src/index.ts";

describe("conformance targets", () => {
  it("none named → undefined; a half-named one is refused naming both variables", async () => {
    assert.equal(await conformanceTargetFromEnvironment({}), undefined);
    await assert.rejects(
      conformanceTargetFromEnvironment({ FAULTLINE_CONFORMANCE_RUNTIME_API: "127.0.0.1:9001" }),
      {
        message: /FAULTLINE_CONFORMANCE_RUNTIME_API and FAULTLINE_CONFORMANCE_INVOKE_URL/,
      },
    );
  });

  it("a module target: its name, its skips plus FAULTLINE_CONFORMANCE_SKIP, its harness factory", async () => {
    const target = await conformanceTargetFromEnvironment({
      FAULTLINE_CONFORMANCE_TARGET: join(import.meta.dirname, "fixtures", "conformance-target.mjs"),
      FAULTLINE_CONFORMANCE_SKIP: JSON.stringify({ "case b": "from the environment" }),
    });
    assert.ok(target);
    assert.equal(target.name, "fixture target");
    assert.deepEqual(target.options.skip, { "case a": "from the module", "case b": "from the environment" });
    assert.equal((await target.makeHarness()).runtimeApi, "127.0.0.1:1");
  });

  it("invokeOverHttp speaks Invoke: base64 client context in, function errors recognised", async () => {
    const seen: Array<Record<string, unknown>> = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString();
        seen.push({ path: req.url, clientContext: req.headers["x-amz-client-context"], body });
        if (body.includes("fail")) {
          res.writeHead(200, { "Content-Type": "application/json", "X-Amz-Function-Error": "Unhandled" });
          res.end('{"errorType":"Boom","errorMessage":"x"}');
        } else {
          res.writeHead(200, { "Content-Type": "text/plain" });
          res.end("fine");
        }
      });
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/2015-03-31/functions/function/invocations`;
    try {
      const invoke = invokeOverHttp(url);
      const ok = await invoke(
        makeInput({ payload: Buffer.from('"hi"'), clientContext: '{"custom":{"k":"v"}}' }),
      );
      assert.deepEqual(ok, { kind: "response", payload: Buffer.from("fine"), contentType: "text/plain" });
      const failed = await invoke(makeInput({ payload: Buffer.from('"fail"') }));
      assert.equal(failed.kind, "function-error");
      assert.equal(failed.kind === "function-error" && failed.errorType, "Boom");
      assert.deepEqual(seen[0], {
        path: "/2015-03-31/functions/function/invocations",
        clientContext: Buffer.from('{"custom":{"k":"v"}}').toString("base64"),
        body: '"hi"',
      });
      assert.equal(seen[1]?.clientContext, undefined);
    } finally {
      server.close();
    }
  });
});
