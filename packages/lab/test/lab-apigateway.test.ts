/**
 * The lab's API fronts and DynamoDB with real components: real function processes (official aws-lambda-ric), the
 * built faultline layer, real HTTP (fetch), dynalite, the lab's S3. What a caller of the API sees is asserted.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { serializeFaultConfig } from "@faultline/protocol";
import { testLayer } from "../../extension/test/helpers/layer.ts";
import {
  apiIdOf,
  compileRoute,
  type InvocationRecord,
  type Lab,
  LabConfigError,
  mapFunctionResult,
  matchRoute,
  parseLabConfig,
  S3_CREDENTIALS,
  startLab,
} from "../src/index.ts";

// biome-ignore lint/suspicious/noExplicitAny: the events are JSON inspected field by field.
type Json = any;

const HANDLER = `
exports.echo = async (event) => ({
  statusCode: 201,
  headers: { "X-Echo": "yes", "Content-Type": "application/json" },
  ...(event.version === "2.0" ? { cookies: ["a=1; Path=/", "b=2"] } : { multiValueHeaders: { "X-Multi": ["m1", "m2"] } }),
  body: JSON.stringify({ event, dynamodb: process.env.AWS_ENDPOINT_URL_DYNAMODB ?? null }),
});
exports.plain = async () => ({ hello: "world" });
exports.binary = async () => ({ statusCode: 200, headers: { "content-type": "image/png" }, body: Buffer.from([0, 1, 2, 255]).toString("base64"), isBase64Encoded: true });
exports.fail = async () => { throw new Error("boom"); };
exports.ok = async () => ({ statusCode: 200, headers: { "content-type": "application/json" }, body: '{"ok":true}' });
`;

describe("lab API fronts (API Gateway proxy events) and DynamoDB", () => {
  const dir = mkdtempSync(join(tmpdir(), "faultline-apigw-"));
  let lab: Lab;
  let s3: S3Client;
  let v2: string;
  let v1: string;
  const records: InvocationRecord[] = [];

  before(async () => {
    writeFileSync(join(dir, "index.js"), HANDLER);
    const layer = await testLayer(join(dir, "faultline-layer.zip"));
    const fn = (name: string, handler: string, faulted = false) => ({
      name,
      runtime: "nodejs20.x" as const,
      handler: `index.${handler}`,
      code: dir,
      timeout: 10,
      ...(faulted
        ? {
            layers: [layer.zipPath],
            environment: {
              AWS_LAMBDA_EXEC_WRAPPER: "/opt/faultline/bootstrap",
              AWS_FIS_CONFIGURATION_LOCATION: "arn:aws:s3:::faults/fis/",
              AWS_FIS_SLOW_POLL_INTERVAL_SECONDS: "1",
              FAULTLINE_HOT_POLL_INTERVAL_SECONDS: "1",
            },
          }
        : {}),
    });
    lab = await startLab({
      buckets: ["faults"],
      functions: [
        fn("echo", "echo"),
        fn("plain", "plain"),
        fn("binary", "binary"),
        fn("fail", "fail"),
        fn("faulted", "ok", true),
      ],
      apis: [
        {
          name: "http",
          routes: [
            { method: "POST", path: "/orders", function: "echo" },
            { method: "GET", path: "/orders/{id}", function: "echo" },
            { method: "GET", path: "/orders/special", function: "plain" },
            { method: "ANY", path: "/files/{proxy+}", function: "binary" },
            { method: "GET", path: "/fail", function: "fail" },
            { method: "GET", path: "/faulted", function: "faulted" },
          ],
        },
        {
          name: "rest",
          payloadFormatVersion: "1.0",
          routes: [
            { method: "GET", path: "/items/{id}", function: "echo" },
            { method: "GET", path: "/plain", function: "plain" },
          ],
        },
      ],
      dynamodb: { tables: [{ name: "Orders", partitionKey: "id" }] },
    });
    lab.onInvocation((r) => records.push(r));
    v2 = lab.endpoints.apis.http!;
    v1 = lab.endpoints.apis.rest!;
    s3 = new S3Client({
      endpoint: lab.endpoints.s3,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: S3_CREDENTIALS,
      requestChecksumCalculation: "WHEN_REQUIRED",
    });
  });
  after(async () => {
    s3?.destroy();
    await lab?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("v2: the function gets an HTTP API event; its proxy response becomes the HTTP response", async () => {
    const before = records.filter((r) => r.functionName === "echo").length;
    const res = await fetch(`${v2}/orders?x=1&x=2&y=3`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie: "s=1; t=2", "X-Custom": "c" },
      body: JSON.stringify({ item: "book" }),
    });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get("x-echo"), "yes");
    assert.deepEqual(res.headers.getSetCookie(), ["a=1; Path=/", "b=2"]);
    assert.ok(res.headers.get("apigw-requestid"));
    const { event, dynamodb } = (await res.json()) as { event: Json; dynamodb: string };
    assert.equal(event.version, "2.0");
    assert.equal(event.routeKey, "POST /orders");
    assert.equal(event.rawPath, "/orders");
    assert.equal(event.rawQueryString, "x=1&x=2&y=3");
    assert.deepEqual(event.queryStringParameters, { x: "1,2", y: "3" });
    assert.deepEqual(event.cookies, ["s=1", "t=2"]);
    assert.equal(event.headers["x-custom"], "c");
    assert.equal(event.headers.cookie, undefined);
    assert.equal(event.requestContext.http.method, "POST");
    assert.equal(event.requestContext.stage, "$default");
    assert.equal(event.requestContext.accountId, "123456789012");
    assert.equal(event.isBase64Encoded, false);
    assert.deepEqual(JSON.parse(event.body), { item: "book" });
    assert.equal(event.pathParameters, undefined);
    assert.equal(dynamodb, lab.endpoints.dynamodb, "AWS_ENDPOINT_URL_DYNAMODB is injected");
    // Through the pool: the invocation is recorded like any other (AWS/Lambda metrics).
    assert.equal(records.filter((r) => r.functionName === "echo").length, before + 1);
  });

  it("v2: path parameters; a literal route beats a parameter; a greedy route; base64 bodies both ways", async () => {
    const one = await fetch(`${v2}/orders/abc%20d`);
    const { event } = (await one.json()) as { event: Json };
    assert.equal(event.routeKey, "GET /orders/{id}");
    assert.deepEqual(event.pathParameters, { id: "abc d" });
    const special = await fetch(`${v2}/orders/special`);
    assert.equal(special.status, 200);
    assert.equal(special.headers.get("content-type"), "application/json");
    assert.deepEqual(
      await special.json(),
      { hello: "world" },
      "a non-proxy result is sent as a 200 JSON body",
    );
    const file = await fetch(`${v2}/files/a/b.png`, {
      method: "PUT",
      headers: { "content-type": "application/octet-stream" },
      body: Buffer.from([9, 9]),
    });
    assert.equal(file.status, 200);
    assert.equal(file.headers.get("content-type"), "image/png");
    assert.deepEqual([...new Uint8Array(await file.arrayBuffer())], [0, 1, 2, 255]);
  });

  it("v2: function error → 502, unmatched route or method → 404, both as API Gateway's JSON message", async () => {
    const failed = await fetch(`${v2}/fail`);
    assert.equal(failed.status, 502);
    assert.deepEqual(await failed.json(), { message: "Internal Server Error" });
    for (const [method, path] of [
      ["GET", "/nowhere"],
      ["DELETE", "/orders"],
      ["GET", "/orders/a/b"],
    ] as const) {
      const res = await fetch(`${v2}${path}`, { method });
      assert.equal(res.status, 404, `${method} ${path}`);
      assert.deepEqual(await res.json(), { message: "Not Found" });
    }
  });

  it("v1: the function gets a REST API event; multi-value headers; a non-proxy result is a 502", async () => {
    const res = await fetch(`${v1}/items/42?a=1&a=2`, { headers: { "X-Mixed-Case": "v" } });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get("x-multi"), "m1, m2");
    assert.ok(res.headers.get("x-amzn-requestid"));
    const { event } = (await res.json()) as { event: Json };
    assert.equal(event.resource, "/items/{id}");
    assert.equal(event.path, "/items/42");
    assert.equal(event.httpMethod, "GET");
    assert.equal(event.headers["X-Mixed-Case"], "v");
    assert.deepEqual(event.queryStringParameters, { a: "2" });
    assert.deepEqual(event.multiValueQueryStringParameters, { a: ["1", "2"] });
    assert.deepEqual(event.pathParameters, { id: "42" });
    assert.equal(event.body, null);
    assert.equal(event.requestContext.resourcePath, "/items/{id}");
    const plain = await fetch(`${v1}/plain`);
    assert.equal(plain.status, 502);
    assert.deepEqual(await plain.json(), { message: "Internal server error" });
  });

  it("the extension's invocation-http-integration-response fault is the status and content type the caller sees", async () => {
    const ok = await fetch(`${v2}/faulted`);
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { ok: true });
    const now = Date.now();
    await s3.send(
      new PutObjectCommand({
        Bucket: "faults",
        Key: "fis/faulted/EXP1/http.json",
        Body: serializeFaultConfig({
          version: 1,
          experimentId: "EXP1",
          actionName: "http",
          actionId: "aws:lambda:invocation-http-integration-response",
          parameters: {
            statusCode: 503,
            contentTypeHeader: "text/plain",
            preventExecution: true,
            invocationPercentage: 100,
          },
          startTime: new Date(now - 1000).toISOString(),
          endTime: new Date(now + 600_000).toISOString(),
        }),
      }),
    );
    // The extension picks the object up at its first poll after the 1 s interval: request until it shows.
    const deadline = performance.now() + 8000;
    let res: Response | undefined;
    while (performance.now() < deadline) {
      res = await fetch(`${v2}/faulted`);
      if (res.status !== 200) break;
      await res.arrayBuffer();
    }
    assert.equal(res?.status, 503);
    assert.equal(res?.headers.get("content-type"), "text/plain");
    assert.match(await res!.text(), /^Injected by faultline: HTTP 503 \(experiment EXP1, action http\)$/);
  });

  it("AWS/ApiGateway metrics per ApiId: Count, 4xx, 5xx, Latency as the caller saw them", async () => {
    const sum = (metricName: string) =>
      lab.metrics
        .query(
          {
            metric: { namespace: "AWS/ApiGateway", metricName, dimensions: { ApiId: apiIdOf("http") } },
            period: 3600,
            stat: "Sum",
          },
          Date.now() - 3600_000,
          Date.now() + 1000,
        )
        .values.reduce((a, b) => a + b, 0);
    const [count, c4, c5] = [sum("Count"), sum("4xx"), sum("5xx")];
    assert.equal((await fetch(`${v2}/nowhere`)).status, 404);
    assert.equal((await fetch(`${v2}/fail`)).status, 502);
    assert.equal((await fetch(`${v2}/orders/special`)).status, 200);
    assert.deepEqual([sum("Count"), sum("4xx"), sum("5xx")], [count + 3, c4 + 1, c5 + 1]);
    assert.ok(sum("Latency") > 0);
  });

  it("DynamoDB: dynalite on 127.0.0.1 with the configured table, answering the DynamoDB JSON protocol", async () => {
    assert.match(lab.endpoints.dynamodb ?? "", /^http:\/\/127\.0\.0\.1:\d+$/);
    const date = new Date().toISOString().replace(/[-:]|\.\d{3}/g, "");
    const res = await fetch(lab.endpoints.dynamodb!, {
      method: "POST",
      headers: {
        "content-type": "application/x-amz-json-1.0",
        "x-amz-target": "DynamoDB_20120810.DescribeTable",
        "x-amz-date": date,
        authorization: `AWS4-HMAC-SHA256 Credential=x/${date.slice(0, 8)}/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0`,
      },
      body: JSON.stringify({ TableName: "Orders" }),
    });
    assert.equal(res.status, 200);
    const { Table } = (await res.json()) as { Table: { TableStatus: string; KeySchema: unknown } };
    assert.equal(Table.TableStatus, "ACTIVE");
    assert.deepEqual(Table.KeySchema, [{ AttributeName: "id", KeyType: "HASH" }]);
  });
});

describe("lab config: apis and dynamodb", () => {
  const source = { file: "lab.json", baseDir: tmpdir() };
  const fn = { name: "f", runtime: "nodejs20.x", handler: "index.handler", code: "." };
  const issues = (raw: unknown) => {
    try {
      parseLabConfig(raw, source);
    } catch (error) {
      assert.ok(error instanceof LabConfigError);
      return error.issues.map((i) => `${i.field}: ${i.message}`);
    }
    assert.fail("expected a LabConfigError");
  };
  it("defaults: payload format 2.0, port 0; no dynamodb unless asked", () => {
    const cfg = parseLabConfig(
      { functions: [fn], apis: [{ name: "a", routes: [{ method: "GET", path: "/x", function: "f" }] }] },
      source,
    );
    assert.deepEqual(cfg.apis, [
      {
        name: "a",
        port: 0,
        payloadFormatVersion: "2.0",
        routes: [{ method: "GET", path: "/x", function: "f" }],
      },
    ]);
    assert.equal(cfg.dynamodb, undefined);
  });
  it("errors name the field: unknown function, bad path, bad method, bad format, bad table", () => {
    assert.deepEqual(
      issues({
        functions: [fn],
        apis: [
          {
            name: "a",
            routes: [
              { method: "GET", path: "/x", function: "nope" },
              { method: "GET", path: "/{p+}/y", function: "f" },
            ],
          },
        ],
      }),
      [
        'apis[0].routes[0].function: no function named "nope" in functions',
        "apis[0].routes[1].path: a greedy {name+} must be the last segment",
      ],
    );
    assert.match(
      issues({
        functions: [fn],
        apis: [{ name: "a", routes: [{ method: "FETCH", path: "/", function: "f" }] }],
      })[0]!,
      /^apis\[0\]\.routes\[0\]\.method: must be one of GET/,
    );
    assert.deepEqual(
      issues({ functions: [fn], apis: [{ name: "a", payloadFormatVersion: "3.0", routes: [] }] }),
      [
        'apis[0].payloadFormatVersion: must be "2.0" or "1.0"',
        "apis[0].routes: must have at least one route",
      ],
    );
    assert.deepEqual(issues({ functions: [fn], dynamodb: { tables: [{ name: "x", partitionKey: "id" }] } }), [
      "dynamodb.tables[0].name: must be 3-255 letters, digits, '_', '-' or '.'",
    ]);
  });
});

describe("API Gateway mapping (in process)", () => {
  const map = (result: unknown, format: "1.0" | "2.0") => {
    const a = mapFunctionResult(Buffer.from(JSON.stringify(result)), format);
    return { status: a.status, headers: a.headers, body: a.body.toString() };
  };
  it("proxy results: headers merged over multi-value headers, cookies (2.0), base64 bodies, default content type", () => {
    assert.deepEqual(
      map(
        {
          statusCode: 302,
          headers: { Location: "/x" },
          multiValueHeaders: { "X-A": ["1", "2"], location: ["/ignored"] },
          cookies: ["c=1"],
          body: Buffer.from("hi").toString("base64"),
          isBase64Encoded: true,
        },
        "2.0",
      ),
      {
        status: 302,
        headers: {
          "x-a": ["1", "2"],
          location: "/x",
          "set-cookie": "c=1",
          "content-type": "application/json",
        },
        body: "hi",
      },
    );
  });
  it("2.0 sends any other JSON as a 200 body; 1.0 answers 502 to what REST would call malformed", () => {
    assert.deepEqual(map([1, 2], "2.0"), {
      status: 200,
      headers: { "content-type": "application/json" },
      body: "[1,2]",
    });
    assert.equal(map("text", "2.0").body, '"text"');
    for (const bad of [
      [1, 2],
      { body: "x" },
      { statusCode: 200, extra: 1 },
      { statusCode: 200, body: { a: 1 } },
    ]) {
      assert.deepEqual(map(bad, "1.0"), {
        status: 502,
        headers: { "content-type": "application/json" },
        body: '{"message":"Internal server error"}',
      });
    }
    assert.equal(map({ statusCode: 99 }, "2.0").status, 502);
  });
  it("routes: literal over parameter over greedy, a method over ANY, trailing segments must match", () => {
    const routes = [
      compileRoute({ method: "ANY", path: "/a/{x}", function: "any" }),
      compileRoute({ method: "GET", path: "/a/{x}", function: "get" }),
      compileRoute({ method: "GET", path: "/a/b", function: "literal" }),
      compileRoute({ method: "GET", path: "/{all+}", function: "greedy" }),
      compileRoute({ method: "GET", path: "/", function: "root" }),
    ];
    const fn = (method: string, path: string) => matchRoute(routes, method, path)?.route.function;
    assert.equal(fn("GET", "/a/b"), "literal");
    assert.equal(fn("GET", "/a/c"), "get");
    assert.equal(fn("POST", "/a/c"), "any");
    assert.equal(fn("GET", "/a/c/d"), "greedy");
    assert.deepEqual(matchRoute(routes, "GET", "/a/c/d")?.pathParameters, { all: "a/c/d" });
    assert.equal(fn("GET", "/"), "root");
    assert.equal(fn("POST", "/z"), undefined);
  });
});
