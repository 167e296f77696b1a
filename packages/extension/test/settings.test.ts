import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_POLL_MAX_WAIT_MS, readSettings } from "../src/index.ts";

const base = { AWS_LAMBDA_FUNCTION_NAME: "demo", AWS_LAMBDA_RUNTIME_API: "127.0.0.1:9001" };

describe("readSettings", () => {
  it("uses the FIS defaults, with our poll wait", () => {
    const { settings, problems } = readSettings({
      ...base,
      AWS_FIS_CONFIGURATION_LOCATION: "arn:aws:s3:::faults/fis/",
    });
    assert.deepEqual(problems, []);
    assert.deepEqual(settings.location, { bucket: "faults", prefix: "fis/" });
    assert.equal(settings.slowPollMs, 60_000);
    assert.equal(settings.hotPollMs, 5000);
    assert.equal(settings.pollMaxWaitMs, DEFAULT_POLL_MAX_WAIT_MS);
    assert.equal(settings.listenerPort, undefined);
    assert.equal(settings.upstream, "127.0.0.1:9001");
    assert.equal(settings.metrics, false);
    assert.equal(settings.logFormat, "text");
  });

  it("reads the change marker every second by default; 0 turns it off; 1–99 ms is refused, naming the variable", () => {
    const read = (value?: string) =>
      readSettings({
        ...base,
        AWS_FIS_CONFIGURATION_LOCATION: "s3://faults/x/",
        ...(value === undefined ? {} : { FAULTLINE_MARKER_INTERVAL_MILLISECONDS: value }),
      });
    assert.equal(read().settings.markerCheckMs, 1000);
    assert.equal(read("0").settings.markerCheckMs, 0);
    assert.equal(read("250").settings.markerCheckMs, 250);
    assert.deepEqual(read("50").problems, [
      "FAULTLINE_MARKER_INTERVAL_MILLISECONDS: must be 0 (off) or from 100 to 3600000, got 50",
    ]);
  });

  it("accepts s3:// locations, a 1 s slow poll, chaining through LRAP_* and JSON logs", () => {
    const { settings, problems } = readSettings({
      ...base,
      AWS_FIS_CONFIGURATION_LOCATION: "s3://faults/x",
      AWS_FIS_SLOW_POLL_INTERVAL_SECONDS: "1",
      LRAP_RUNTIME_API_ENDPOINT: "127.0.0.1:9200",
      LRAP_LISTENER_PORT: "9300",
      AWS_LAMBDA_LOG_FORMAT: "JSON",
      AWS_FIS_EXTENSION_METRICS: "all",
    });
    assert.deepEqual(problems, []);
    assert.equal(settings.slowPollMs, 1000);
    assert.equal(settings.upstream, "127.0.0.1:9200");
    assert.equal(settings.extensionsApi, "127.0.0.1:9001");
    assert.equal(settings.listenerPort, 9300);
    assert.equal(settings.logFormat, "json");
    assert.equal(settings.metrics, true);
  });

  it("names every bad variable instead of throwing", () => {
    const { problems } = readSettings({
      ...base,
      AWS_FIS_CONFIGURATION_LOCATION: "bucket/prefix",
      AWS_FIS_SLOW_POLL_INTERVAL_SECONDS: "0",
      AWS_FIS_POLL_MAX_WAIT_MILLISECONDS: "soon",
      AWS_FIS_PROXY_LISTENER_PORT: "70000",
      AWS_FIS_PROXY_RUNTIME_API_ENDPOINT: "nowhere",
      AWS_FIS_EXTENSION_METRICS: "some",
      AWS_FIS_LOG_LEVEL: "LOUD",
      AWS_ENDPOINT_URL_S3: "ftp://x",
    });
    const named = problems.map((p) => p.split(":")[0]).sort();
    assert.deepEqual(named, [
      "AWS_ENDPOINT_URL_S3",
      "AWS_FIS_CONFIGURATION_LOCATION",
      "AWS_FIS_EXTENSION_METRICS",
      "AWS_FIS_LOG_LEVEL",
      "AWS_FIS_POLL_MAX_WAIT_MILLISECONDS",
      "AWS_FIS_PROXY_LISTENER_PORT",
      "AWS_FIS_PROXY_RUNTIME_API_ENDPOINT",
      "AWS_FIS_SLOW_POLL_INTERVAL_SECONDS",
    ]);
    assert.match(problems.join("\n"), /AWS_FIS_SLOW_POLL_INTERVAL_SECONDS: must be from 1 to 86400, got 0/);
  });
});
