/**
 * Issue 9: no request takes a lab server down, and no web page gets in. One real lab (a real function process,
 * S3, CloudWatch, an API front, dynalite) takes a corpus of hostile requests plus fast-check-generated ones on each
 * server, over raw sockets; every reply must be a 2xx/3xx/4xx in that service's own error shape and each server
 * must still serve afterwards. Then the guards: a foreign Host (DNS rebinding) and browser-shaped requests
 * (Origin, Sec-Fetch-Site) are refused everywhere, except that the API front lets browsers through (as API Gateway
 * does) while still checking Host; `allowedHosts` opens a name on purpose; SDK clients and functions keep working.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { CloudWatchClient, DeleteAlarmsCommand, SetAlarmStateCommand } from "@aws-sdk/client-cloudwatch";
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import {
  fuzzServer,
  generatedRequests,
  type HostileRequest,
  hostileCorpus,
  isParserRefusal,
  type RawReply,
  sendRaw,
} from "@faultline/testing";
import { guardedListener, hostName } from "../src/http-guard.ts";
import { type Lab, LabConfigError, parseLabConfig, S3_CREDENTIALS, startLab } from "../src/index.ts";
import { createLambdaApiServer, listen } from "../src/lambda-api/index.ts";
import { startRuntimeApi } from "../src/runtime-api/index.ts";

const CODE = fileURLToPath(new URL("./fixtures/lab-basic/node-echo/", import.meta.url));
const GENERATED = 60;

const ALARM = {
  name: "stop-condition",
  namespace: "AWS/Lambda",
  metricName: "Errors",
  dimensions: { FunctionName: "hello" },
  statistic: "Sum" as const,
  period: 60,
  evaluationPeriods: 1,
  threshold: 1,
  comparisonOperator: "GreaterThanOrEqualToThreshold" as const,
};

function labConfig(extra: Record<string, unknown> = {}) {
  return {
    buckets: ["faults"],
    functions: [
      {
        name: "hello",
        runtime: "nodejs20.x" as const,
        handler: "index.handler",
        code: CODE,
        environment: { GREETING: "s3cr3t" },
      },
    ],
    apis: [{ name: "web", routes: [{ method: "ANY" as const, path: "/{proxy+}", function: "hello" }] }],
    dynamodb: { tables: [{ name: "Orders", partitionKey: "id" }] },
    alarms: [ALARM],
    ...extra,
  };
}

const text = (r: RawReply) => r.body.toString("utf8");
const json = (r: RawReply): Record<string, unknown> | undefined => {
  try {
    const v = JSON.parse(text(r));
    return typeof v === "object" && v !== null && !Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
};

/** Lambda: `x-amzn-errortype` and `{"Type":"User","Message"|"message":…}`. */
function lambdaShape(r: RawReply, req?: HostileRequest): string | undefined {
  if (r.status < 400 || isParserRefusal(r) || req?.method === "HEAD") return undefined;
  const body = json(r);
  if (!r.headers["x-amzn-errortype"]) return "no x-amzn-errortype";
  if (typeof (body?.Message ?? body?.message) !== "string") return `not Lambda's error body: ${text(r)}`;
  return undefined;
}

/** S3: `<Error><Code>` XML, no body for HEAD. */
function s3Shape(r: RawReply, req: HostileRequest): string | undefined {
  if (r.status < 400 || isParserRefusal(r) || req.method === "HEAD") return undefined;
  return /^<\?xml[^>]*>\s*<Error><Code>\w+<\/Code>/.test(text(r))
    ? undefined
    : `not S3's Error XML: ${text(r)}`;
}

/** CloudWatch: awsQuery `<ErrorResponse>` XML, or awsJson/CBOR with `x-amzn-query-error`. */
function cloudwatchShape(r: RawReply, req?: HostileRequest): string | undefined {
  if (r.status < 400 || isParserRefusal(r) || req?.method === "HEAD") return undefined;
  if (r.headers["content-type"] === "text/xml")
    return /^<ErrorResponse [^>]*><Error><Type>Sender<\/Type><Code>\w+<\/Code>/.test(text(r))
      ? undefined
      : `not CloudWatch's query error: ${text(r)}`;
  if (!/^\w+;Sender$/.test(r.headers["x-amzn-query-error"] ?? "")) return "no x-amzn-query-error";
  if (r.headers["content-type"] === "application/cbor") return undefined;
  return typeof json(r)?.__type === "string" ? undefined : `not CloudWatch's JSON error: ${text(r)}`;
}

/** API Gateway: `{"message":…}` on its own errors; the function's answers otherwise. */
function apiShape(r: RawReply, req: HostileRequest): string | undefined {
  if (r.status < 400 || isParserRefusal(r) || req.method === "HEAD") return undefined;
  return typeof json(r)?.message === "string" ? undefined : `not API Gateway's error body: ${text(r)}`;
}

/** DynamoDB (dynalite): `{"__type":…}`, or DynamoDB's bare `<UnknownOperationException/>` for non-JSON requests. */
function dynamoShape(r: RawReply, req: HostileRequest): string | undefined {
  if (r.status < 400 || isParserRefusal(r) || req.method === "HEAD") return undefined;
  if (text(r) === "<UnknownOperationException/>\n") return undefined;
  return typeof json(r)?.__type === "string" ? undefined : `not DynamoDB's error body: ${text(r)}`;
}

describe("lab servers under hostile requests (issue 9.1)", () => {
  let lab: Lab;
  const logged: string[] = [];
  const write = process.stderr.write.bind(process.stderr);

  before(async () => {
    // Handler bugs are logged to stderr: collected, so a test can say none happened.
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      if (String(chunk).startsWith("faultline lab")) logged.push(String(chunk));
      return write(chunk, ...rest);
    }) as typeof process.stderr.write;
    lab = await startLab(labConfig());
  });
  after(async () => {
    process.stderr.write = write;
    await lab?.stop();
  });

  const lambdaPaths = [
    "/2015-03-31/functions/hello/invocations",
    "/2021-11-15/functions/hello/response-streaming-invocations",
    "/2015-03-31/functions/hello",
    "/2015-03-31/functions/hello/configuration",
    "/2015-03-31/functions/hello/aliases/x",
    "/2017-03-31/tags/arn",
    "/2018-10-31/layers/l/versions/1",
    "/faultline/layers/l/versions/1/content.zip",
    "/",
  ];

  test("the Lambda API (with tag:GetResources): the issue's requests get 4xx, not a dead process", async () => {
    const root = await sendRaw(lab.endpoints.lambda, { method: "GET", target: "///" });
    assert.equal(root.status, 404, text(root));
    assert.equal(root.headers["x-amzn-errortype"], "UnknownOperationException");
    const badEscape = await sendRaw(lab.endpoints.lambda, {
      method: "POST",
      target: "/2015-03-31/functions/hello%E0%A4/invocations",
      body: "{}",
    });
    assert.equal(badEscape.status, 400, text(badEscape));
    assert.equal(badEscape.headers["x-amzn-errortype"], "InvalidParameterValueException");
    const deep = await sendRaw(lab.endpoints.lambda, {
      method: "POST",
      target: "/",
      headers: { "x-amz-target": "ResourceGroupsTaggingAPI_20170126.GetResources" },
      body: `{"TagFilters":[{"Key":"a","Values":${"[".repeat(5000)}"v"${"]".repeat(5000)}}]}`,
    });
    assert.equal(deep.status, 400, text(deep));
    for (const body of ["null", '{"TagFilters":5}', '{"TagFilters":[null]}', '{"ResourceARNList":7}']) {
      const r = await sendRaw(lab.endpoints.lambda, {
        method: "POST",
        target: "/",
        headers: { "x-amz-target": "ResourceGroupsTaggingAPI_20170126.GetResources" },
        body,
      });
      assert.equal(r.status, 400, `${body}: ${text(r)}`);
    }
  });

  test("fuzz: the Lambda API", async () => {
    const problems = await fuzzServer({
      url: lab.endpoints.lambda,
      requests: [...hostileCorpus(lambdaPaths), ...generatedRequests(lambdaPaths, GENERATED)],
      problem: lambdaShape,
      probe: { method: "GET", target: "/2015-03-31/functions/hello" },
    });
    assert.deepEqual(problems, []);
  });

  test("fuzz: S3", async () => {
    const paths = ["/faults", "/faults/FisConfigs/x.json", "/faults/a//b", "/nope/k"];
    const problems = await fuzzServer({
      url: lab.endpoints.s3,
      requests: [...hostileCorpus(paths), ...generatedRequests(paths, GENERATED)],
      problem: s3Shape,
      // The lab's answer to S3 operations it does not implement, in S3's shape.
      deliberate: [501],
      probe: { method: "GET", target: "/faults?list-type=2" },
    });
    assert.deepEqual(problems, []);
  });

  test("CloudWatch: form bodies that contradict themselves or reach __proto__ get 400", async () => {
    for (const body of [
      "Action=PutMetricData&Namespace=x&Namespace.a=1",
      "Action=PutMetricData&MetricData.member.0.MetricName=x",
      "Action=PutMetricData&MetricData.member.999999999.MetricName=x",
      "Action=DescribeAlarms&__proto__.polluted=1",
      "Action=DescribeAlarms&AlarmNames.member.1=a&AlarmNames.member.1.x=b",
    ]) {
      const r = await sendRaw(lab.endpoints.cloudwatch, {
        method: "POST",
        target: "/",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body,
      });
      assert.equal(r.status, 400, `${body}: ${text(r)}`);
      assert.equal(cloudwatchShape(r), undefined);
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined, "Object.prototype untouched");
  });

  test("fuzz: CloudWatch", async () => {
    const paths = ["/", "/service/GraniteServiceVersion20100801/operation/PutMetricData"];
    const problems = await fuzzServer({
      url: lab.endpoints.cloudwatch,
      requests: [...hostileCorpus(paths), ...generatedRequests(paths, GENERATED)],
      problem: cloudwatchShape,
      probe: {
        method: "POST",
        target: "/",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "Action=DescribeAlarms",
      },
    });
    assert.deepEqual(problems, []);
  });

  test("fuzz: the API Gateway front", async () => {
    const url = lab.endpoints.apis.web!;
    const root = await sendRaw(url, { method: "GET", target: "///" });
    assert.ok(root.status < 500, text(root));
    const paths = ["/orders", "/orders/1"];
    const problems = await fuzzServer({
      url,
      requests: [...hostileCorpus(paths), ...generatedRequests(paths, GENERATED)],
      problem: apiShape,
      probe: { method: "GET", target: "/orders/1" },
    });
    assert.deepEqual(problems, []);
  });

  test("fuzz: DynamoDB (dynalite behind the lab's guard)", async () => {
    const problems = await fuzzServer({
      url: lab.endpoints.dynamodb!,
      requests: [...hostileCorpus(["/"]), ...generatedRequests(["/"], GENERATED)],
      problem: dynamoShape,
      probe: {
        method: "POST",
        target: "/",
        headers: {
          "content-type": "application/x-amz-json-1.0",
          "x-amz-target": "DynamoDB_20120810.ListTables",
          "x-amz-date": "20260101T000000Z",
          authorization:
            "AWS4-HMAC-SHA256 Credential=a/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0",
        },
        body: "{}",
      },
    });
    assert.deepEqual(problems, []);
  });

  test("no request above hit a lab bug (nothing logged as failed)", () => {
    assert.deepEqual(logged, []);
  });
});

describe("lab servers refuse web pages and foreign Host names (issue 9.3)", () => {
  let lab: Lab;
  let s3: S3Client;
  let lambda: LambdaClient;
  let cloudwatch: CloudWatchClient;
  const foreign = { host: "rebind.attacker.example" };
  const page = { origin: "http://attacker.example", "sec-fetch-site": "cross-site" };

  before(async () => {
    lab = await startLab(labConfig({ allowedHosts: ["lab.internal"] }));
    const common = { region: "us-east-1", credentials: S3_CREDENTIALS, maxAttempts: 1 };
    s3 = new S3Client({
      ...common,
      endpoint: lab.endpoints.s3,
      forcePathStyle: true,
      requestChecksumCalculation: "WHEN_REQUIRED",
    });
    lambda = new LambdaClient({ ...common, endpoint: lab.endpoints.lambda });
    cloudwatch = new CloudWatchClient({ ...common, endpoint: lab.endpoints.cloudwatch });
  });
  after(async () => {
    for (const c of [s3, lambda, cloudwatch]) c?.destroy();
    await lab?.stop();
  });

  test("Lambda: a page's text/plain POST cannot invoke; a rebinding Host cannot read env vars", async () => {
    const invoke = await sendRaw(lab.endpoints.lambda, {
      method: "POST",
      target: "/2015-03-31/functions/hello/invocations",
      headers: { "content-type": "text/plain", origin: "http://attacker.example" },
      body: '{"echo":1}',
    });
    assert.equal(invoke.status, 403);
    assert.equal(invoke.headers["x-amzn-errortype"], "AccessDeniedException");
    const fetchSite = await sendRaw(lab.endpoints.lambda, {
      method: "GET",
      target: "/2015-03-31/functions/hello",
      headers: { "sec-fetch-site": "same-site" },
    });
    assert.equal(fetchSite.status, 403);
    const rebound = await sendRaw(lab.endpoints.lambda, {
      method: "GET",
      target: "/2015-03-31/functions/hello",
      headers: { host: `rebind.attacker.example:${new URL(lab.endpoints.lambda).port}` },
    });
    assert.equal(rebound.status, 403);
    assert.doesNotMatch(text(rebound), /s3cr3t/);
    assert.equal(lambdaShape(rebound), undefined);
  });

  test("S3: a rebinding Host cannot PUT a fault object; a page cannot DELETE", async () => {
    const put = await sendRaw(lab.endpoints.s3, {
      method: "PUT",
      target: "/faults/FisConfigs/injected.json",
      headers: foreign,
      body: "{}",
    });
    assert.equal(put.status, 403);
    assert.match(text(put), /<Code>AccessDenied<\/Code>/);
    await assert.rejects(
      s3.send(new GetObjectCommand({ Bucket: "faults", Key: "FisConfigs/injected.json" })),
    );
    await s3.send(new PutObjectCommand({ Bucket: "faults", Key: "keep.json", Body: "{}" }));
    const del = await sendRaw(lab.endpoints.s3, {
      method: "DELETE",
      target: "/faults/keep.json",
      headers: page,
    });
    assert.equal(del.status, 403);
    const kept = await s3.send(new GetObjectCommand({ Bucket: "faults", Key: "keep.json" }));
    assert.equal(await kept.Body?.transformToString(), "{}");
  });

  test("S3: virtual-host style names under localhost still work", async () => {
    const r = await sendRaw(lab.endpoints.s3, {
      method: "GET",
      target: "/keep.json",
      headers: { host: `faults.localhost:${new URL(lab.endpoints.s3).port}` },
    });
    assert.equal(r.status, 200, text(r));
  });

  test("CloudWatch: a page cannot SetAlarmState or DeleteAlarms on a stop-condition alarm", async () => {
    for (const body of [
      "Action=SetAlarmState&AlarmName=stop-condition&StateValue=OK&StateReason=x",
      "Action=DeleteAlarms&AlarmNames.member.1=stop-condition",
    ]) {
      const r = await sendRaw(lab.endpoints.cloudwatch, {
        method: "POST",
        target: "/",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: "http://attacker.example" },
        body,
      });
      assert.equal(r.status, 403, text(r));
      assert.match(text(r), /<Code>AccessDenied<\/Code>/);
    }
    const json = await sendRaw(lab.endpoints.cloudwatch, {
      method: "POST",
      target: "/",
      headers: { "x-amz-target": "GraniteServiceVersion20100801.DeleteAlarms", ...foreign },
      body: '{"AlarmNames":["stop-condition"]}',
    });
    assert.equal(json.status, 403);
    assert.equal(cloudwatchShape(json), undefined);
    assert.ok(lab.config.alarms?.length === 1 && lab.metrics !== undefined);
    // The alarm is still there and the SDK (no Origin, loopback Host) still drives it.
    await cloudwatch.send(
      new SetAlarmStateCommand({ AlarmName: "stop-condition", StateValue: "OK", StateReason: "t" }),
    );
    await cloudwatch.send(new DeleteAlarmsCommand({ AlarmNames: ["stop-condition"] }));
  });

  test("DynamoDB: a foreign Host is refused in DynamoDB's shape", async () => {
    const r = await sendRaw(lab.endpoints.dynamodb!, {
      method: "POST",
      target: "/",
      headers: { "x-amz-target": "DynamoDB_20120810.ListTables", ...foreign },
      body: "{}",
    });
    assert.equal(r.status, 400);
    assert.equal(json(r)?.__type, "com.amazon.coral.service#AccessDeniedException");
  });

  test("API front: browsers may call it (as on API Gateway), a foreign Host may not", async () => {
    const url = lab.endpoints.apis.web!;
    const fromPage = await sendRaw(url, { method: "POST", target: "/orders", headers: page, body: "{}" });
    assert.equal(fromPage.status, 200, text(fromPage));
    const rebound = await sendRaw(url, { method: "GET", target: "/orders", headers: foreign });
    assert.equal(rebound.status, 403);
    assert.deepEqual(json(rebound), { message: "Forbidden" });
  });

  test("allowedHosts opens a name on purpose on every server; loopback names stay open", async () => {
    const port = (u: string) => new URL(u).port;
    const e = lab.endpoints;
    const targets: Array<[string, HostileRequest]> = [
      [e.lambda, { method: "GET", target: "/2015-03-31/functions/hello" }],
      [e.s3, { method: "GET", target: "/faults?list-type=2" }],
      [
        e.cloudwatch,
        {
          method: "POST",
          target: "/",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: "Action=DescribeAlarms",
        },
      ],
      [e.apis.web!, { method: "GET", target: "/orders" }],
    ];
    for (const [url, req] of targets) {
      for (const host of [`lab.internal:${port(url)}`, "LAB.INTERNAL", `localhost:${port(url)}`, "[::1]"]) {
        const r = await sendRaw(url, { ...req, headers: { ...req.headers, host } });
        assert.equal(r.status, 200, `${url} Host ${host}: ${text(r)}`);
      }
      const other = await sendRaw(url, {
        ...req,
        headers: { ...req.headers, host: "lab.internal.attacker.example" },
      });
      assert.equal(other.status, 403, `${url}: ${text(other)}`);
    }
  });

  test("functions still reach S3 and the SDK still invokes (no Origin, loopback Host)", async () => {
    const out = await lambda.send(
      new InvokeCommand({ FunctionName: "hello", Payload: Buffer.from('{"echo":"hi"}') }),
    );
    assert.equal(out.FunctionError, undefined);
    assert.equal(JSON.parse(Buffer.from(out.Payload!).toString()).echo, "hi");
  });
});

describe("the Runtime API port refuses web pages and foreign Hosts too", () => {
  test("a rebinding page cannot read events or post a response; bad escapes get 400", async () => {
    const api = await startRuntimeApi();
    try {
      const url = `http://${api.address}`;
      const next = "/2018-06-01/runtime/invocation/next";
      const rebound = await sendRaw(url, {
        method: "GET",
        target: next,
        headers: { host: "attacker.example" },
      });
      assert.equal(rebound.status, 403);
      const page = await sendRaw(url, {
        method: "POST",
        target: "/2018-06-01/runtime/invocation/x/response",
        headers: { origin: "http://attacker.example", "content-type": "text/plain" },
        body: "forged",
      });
      assert.equal(page.status, 403);
      const bad = await sendRaw(url, {
        method: "POST",
        target: "/2018-06-01/runtime/invocation/%E0%A4/response",
        body: "{}",
      });
      assert.equal(bad.status, 400, text(bad));
    } finally {
      await api.close();
    }
  });
});

describe("a handler bug answers 500 for that request alone, logged; the server lives on", () => {
  test("the Lambda API: a throwing pool map → 500 ServiceException, then the next request is served", async () => {
    let broken = true;
    const pools = new Map();
    const flaky = new Proxy(pools, {
      get(target, key) {
        if (key === "keys" && broken) throw new TypeError("bug on purpose");
        const v = Reflect.get(target, key, target);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    const logged: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => {
      logged.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    const server = createLambdaApiServer({
      region: "us-east-1",
      accountId: "123456789012",
      pools: flaky,
      startedAt: new Date(),
    });
    const running = await listen(server, "127.0.0.1", 0);
    try {
      const failed = await sendRaw(running.url, { method: "GET", target: "/2015-03-31/functions" });
      assert.equal(failed.status, 500);
      assert.equal(failed.headers["x-amzn-errortype"], "ServiceException");
      broken = false;
      const next = await sendRaw(running.url, { method: "GET", target: "/2015-03-31/functions" });
      assert.equal(next.status, 200, text(next));
    } finally {
      process.stderr.write = write;
      await running.close();
    }
    assert.equal(logged.length, 1);
    assert.match(
      logged[0]!,
      /^faultline lab lambda: GET \/2015-03-31\/functions failed: TypeError: bug on purpose/,
    );
  });

  test("guardedListener: sync throws, rejections and a failing renderer never escape", async () => {
    const logged: string[] = [];
    const http = await import("node:http");
    let mode = "";
    const server = http.createServer(
      guardedListener({
        name: "unit",
        log: (m) => logged.push(m),
        handle: (_req, res) => {
          if (mode === "throw") throw new Error("sync");
          if (mode === "reject") return Promise.reject(new Error("async"));
          if (mode === "late") {
            res.writeHead(200);
            res.write("partial");
            throw new Error("after headers");
          }
          res.end("fine");
        },
        refuse: () => undefined,
        fail: (_req, res) => {
          if (mode === "reject") throw new Error("renderer broken too");
          res.writeHead(500);
          res.end("bug");
        },
      }),
    );
    const running = await listen(server, "127.0.0.1", 0);
    try {
      mode = "throw";
      assert.equal((await sendRaw(running.url, { method: "GET", target: "/" })).status, 500);
      mode = "reject";
      await assert.rejects(sendRaw(running.url, { method: "GET", target: "/" }), /no HTTP reply/);
      mode = "late";
      const late = await sendRaw(running.url, { method: "GET", target: "/" }).catch((e: Error) => e);
      assert.ok(late instanceof Error || late.status === 200, "the connection is cut, no second status line");
      mode = "";
      assert.equal(text(await sendRaw(running.url, { method: "GET", target: "/" })), "fine");
    } finally {
      await running.close();
    }
    assert.equal(logged.length, 3);
  });
});

test("lab config: allowedHosts takes host names (with or without a port), nothing else", () => {
  const source = { file: "lab.json", baseDir: "/" };
  const ok = parseLabConfig(
    { functions: [], allowedHosts: ["lab.internal", "lab.internal:8080", "[::1]"] },
    source,
  );
  assert.deepEqual(ok.allowedHosts, ["lab.internal", "lab.internal:8080", "[::1]"]);
  assert.equal(parseLabConfig({ functions: [] }, source).allowedHosts, undefined);
  assert.throws(
    () => parseLabConfig({ functions: [], allowedHosts: ["http://lab.internal/"] }, source),
    (e: unknown) => e instanceof LabConfigError && e.field === "allowedHosts[0]",
  );
});

test("hostName: the port is digits after the last colon, nothing else", () => {
  assert.equal(hostName("LAB.internal:8080"), "lab.internal");
  assert.equal(hostName("[::1]:9000"), "[::1]");
  assert.equal(hostName("127.0.0.1:80@attacker.example"), "127.0.0.1:80@attacker.example");
  assert.equal(hostName("localhost"), "localhost");
});
