/**
 * `faultline report <experimentId> [--out <dir>] [--open] [--rebuild]`: fetches an experiment's report through
 * faultline's report route (an extension of the FIS API, docs/api.md) and writes it. When the experiment has no
 * report yet, or with --rebuild, it asks the API to build one first. A client of the API only.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { join, resolve } from "node:path";
import type { CliCommand } from "../command.ts";
import { CliError, UsageError } from "../errors.ts";
import { connect, toJson } from "./fis-client.ts";

interface ReportOptions {
  endpoint?: string;
  region?: string;
  out: string;
  open?: boolean;
  rebuild?: boolean;
  json?: boolean;
}

interface Reply {
  status: number;
  type: string;
  body: Buffer;
}

type Signer = (url: URL, method: string) => Promise<Record<string, string>>;

/**
 * SigV4 headers made by the FIS client's own signer: the same credentials, region and service as every other
 * command, so an API started with --verify-signatures (or AWS-style auth in front of it) accepts the report route.
 */
function fisSigner(endpoint: string, region: string | undefined): Signer {
  const client = connect({ endpoint, ...(region ? { region } : {}) });
  return async (url, method) => {
    const signer = await client.config.signer();
    const signed = await signer.sign({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: { host: url.host, accept: "*/*" },
    });
    return signed.headers;
  };
}

/** One signed HTTP call to the API (node:http, so no browser-style Origin header that the API would refuse). */
async function send(base: string, method: "GET" | "POST", path: string, sign: Signer): Promise<Reply> {
  const url = new URL(path, base.endsWith("/") ? base : `${base}/`);
  const request = url.protocol === "https:" ? httpsRequest : httpRequest;
  const headers = await sign(url, method);
  return new Promise((done, fail) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        done({
          status: res.statusCode ?? 0,
          type: String(res.headers["content-type"] ?? ""),
          body: Buffer.concat(chunks),
        }),
      );
      res.on("error", fail);
    });
    req.on("error", (e: NodeJS.ErrnoException) =>
      fail(new CliError(`cannot reach the faultline API at ${base}: ${e.message}`)),
    );
    req.end();
  });
}

/** The API's error shape: `{message}` with the exception name in x-amzn-errortype (we only have the message). */
function apiError(reply: Reply, what: string): CliError {
  let message = reply.body.toString("utf8");
  try {
    message = (JSON.parse(message) as { message?: string }).message ?? message;
  } catch {}
  return new CliError(`${what}: HTTP ${reply.status}: ${message}`);
}

export const report: CliCommand = {
  name: "report",
  register(program, io) {
    program
      .command("report <experimentId>")
      .description(
        "Write an experiment's report (HTML, and PDF when the engine printed one); builds it if needed",
      )
      .option(
        "--endpoint <url>",
        "faultline API endpoint (default: $AWS_ENDPOINT_URL_FIS, then $FAULTLINE_ENDPOINT)",
      )
      .option("--region <region>", "region to sign requests for", process.env.AWS_REGION ?? "us-east-1")
      .option("-o, --out <dir>", "folder to write the files to", ".")
      .option("--open", "open the HTML report (xdg-open when installed; otherwise its path is printed)")
      .option("--rebuild", "build the report again now, even if one exists")
      .option("--json", "print {experimentReport?, files} as JSON")
      .action(async (id: string, o: ReportOptions) => {
        const endpoint = o.endpoint ?? process.env.AWS_ENDPOINT_URL_FIS ?? process.env.FAULTLINE_ENDPOINT;
        if (!endpoint) {
          throw new UsageError(
            "no endpoint: pass --endpoint <url> or set AWS_ENDPOINT_URL_FIS (faultline up prints it)",
          );
        }
        const sign = fisSigner(endpoint, o.region);
        const path = `faultline/experiments/${encodeURIComponent(id)}/report`;
        let html = o.rebuild ? undefined : await send(endpoint, "GET", `${path}?format=html`, sign);
        let built: { experimentReport?: { state?: { status?: string; reason?: string } } } | undefined;
        if (!html || html.status === 404) {
          const reply = await send(endpoint, "POST", path, sign);
          if (reply.status !== 200) throw apiError(reply, `cannot build the report of ${id}`);
          built = JSON.parse(reply.body.toString("utf8"));
          const state = built?.experimentReport?.state;
          if (state?.status !== "completed") {
            throw new CliError(
              `the report of ${id} is ${state?.status ?? "missing"}: ${state?.reason ?? ""}`.trim(),
            );
          }
          html = await send(endpoint, "GET", `${path}?format=html`, sign);
        }
        if (html.status !== 200) throw apiError(html, `cannot fetch the report of ${id}`);
        const pdf = await send(endpoint, "GET", `${path}?format=pdf`, sign);
        const dir = resolve(o.out);
        mkdirSync(dir, { recursive: true });
        const files: { html: string; pdf?: string } = { html: join(dir, `${id}.html`) };
        writeFileSync(files.html, html.body);
        if (pdf.status === 200) {
          files.pdf = join(dir, `${id}.pdf`);
          writeFileSync(files.pdf, pdf.body);
        }
        if (o.json) {
          io.stdout(
            toJson({
              ...(built?.experimentReport ? { experimentReport: built.experimentReport } : {}),
              files,
            }),
          );
        } else {
          io.stdout(`${files.html}\n${files.pdf ? `${files.pdf}\n` : ""}`);
        }
        if (o.open) openFile(files.html, io.stderr);
      });
  },
};

/** Hands the file to the desktop (detached: the viewer is the user's, not ours); prints the path otherwise. */
function openFile(path: string, say: (text: string) => void): void {
  const found = spawnSync("sh", ["-c", "command -v xdg-open"], { encoding: "utf8" });
  if (found.status !== 0) {
    say(`xdg-open is not installed; open ${path} in a browser\n`);
    return;
  }
  const child = spawn("xdg-open", [path], { detached: true, stdio: "ignore" });
  child.on("error", () => say(`could not run xdg-open; open ${path} in a browser\n`));
  child.unref();
}
