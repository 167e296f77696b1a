/**
 * `faultline safety-lever status|engage|disengage`: FIS's account-wide safety lever, through the FIS API
 * (GET /safetyLevers/{id}, PATCH /safetyLevers/{id}/state). Engaged, it stops every running experiment and
 * cancels every experiment started until it is disengaged.
 *
 * @aws-sdk/client-fis 3.523.0 (the newest the npm registry here offers) predates these two operations, so they
 * are sent as the FIS API model describes them: the client's endpoint, region and credentials, SigV4-signed.
 */
import type { FisClient } from "@aws-sdk/client-fis";
import { SignatureV4 } from "@smithy/signature-v4";
import type { CliCommand, CliIO } from "../command.ts";
import { group } from "../command.ts";
import { CliError } from "../errors.ts";
import { type ClientOptions, clientOptions, connect, endpointOf, toJson } from "./fis-client.ts";

interface SafetyLever {
  id: string;
  arn: string;
  state: { status: "disengaged" | "engaging" | "engaged"; reason: string };
}

type LeverOptions = ClientOptions & { id: string };

/** One signed request to the lever's path; FIS errors (x-amzn-errortype) become CliErrors. */
async function leverRequest(
  client: FisClient,
  endpoint: string,
  method: "GET" | "PATCH",
  path: string,
  body?: unknown,
): Promise<SafetyLever> {
  const url = new URL(path.replace(/^\//, ""), endpoint.endsWith("/") ? endpoint : `${endpoint}/`);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const signer = new SignatureV4({
    service: "fis",
    region: await client.config.region(),
    credentials: client.config.credentials,
    sha256: client.config.sha256 as never,
  });
  const signed = await signer.sign({
    method,
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    path: url.pathname,
    query: {},
    headers: {
      host: url.host,
      ...(payload === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(payload === undefined ? {} : { body: payload }),
  });
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: signed.headers,
      ...(payload === undefined ? {} : { body: payload }),
    });
  } catch (error) {
    throw new CliError(`cannot reach the FIS API: ${((error as Error).cause as Error)?.message ?? error}`);
  }
  const text = await res.text();
  const json = (text ? JSON.parse(text) : {}) as { safetyLever?: SafetyLever; message?: string };
  if (!res.ok) {
    const type = (res.headers.get("x-amzn-errortype") ?? `HTTP ${res.status}`).split(":")[0];
    throw new CliError(`${type}: ${json.message ?? text}`);
  }
  return json.safetyLever!;
}

const leverPath = (id: string) => `/safetyLevers/${encodeURIComponent(id)}`;

function render(lever: SafetyLever): string {
  return `${lever.id}  ${lever.state.status}  ${lever.state.reason}\n`;
}

/** PATCHes the state, then (engaging) follows the lever until every running experiment has stopped. */
async function update(
  status: "engaged" | "disengaged",
  o: LeverOptions & { reason: string; wait: boolean; interval: string },
  io: CliIO,
): Promise<void> {
  const client = connect(o);
  const endpoint = endpointOf(o);
  let lever = await leverRequest(client, endpoint, "PATCH", `${leverPath(o.id)}/state`, {
    state: { status, reason: o.reason },
  });
  // Said once: the lever stays engaging for as long as a stopping experiment's fault objects may be in S3.
  if (o.wait && lever.state.status === "engaging" && !o.json) io.stdout(render(lever));
  while (o.wait && lever.state.status === "engaging") {
    await new Promise((r) => setTimeout(r, Number(o.interval)));
    lever = await leverRequest(client, endpoint, "GET", leverPath(o.id));
  }
  io.stdout(o.json ? toJson({ safetyLever: lever }) : render(lever));
}

export const safetyLever: CliCommand = {
  name: "safety-lever",
  register(program, io) {
    const g = group(
      program,
      "safety-lever",
      "The account's safety lever: engaged, it stops every running experiment and blocks new ones",
    );
    const withId = (c: ReturnType<typeof g.command>) =>
      clientOptions(c).option("--id <id>", "safety lever id (FIS has one per account and Region)", "default");
    withId(g.command("status").description("Show the safety lever's state and reason")).action(
      async (o: LeverOptions) => {
        const lever = await leverRequest(connect(o), endpointOf(o), "GET", leverPath(o.id));
        io.stdout(o.json ? toJson({ safetyLever: lever }) : render(lever));
      },
    );
    for (const [name, status, what] of [
      ["engage", "engaged", "Stop every running experiment (faults removed) and block new ones"],
      ["disengage", "disengaged", "Allow experiments again"],
    ] as const) {
      withId(g.command(name).description(what))
        .requiredOption("--reason <text>", "why (kept as the lever's state reason)")
        .option("--no-wait", "answer at once, while running experiments are still stopping")
        .option("--interval <ms>", "poll interval while the lever is engaging", "200")
        .action((o: LeverOptions & { reason: string; wait: boolean; interval: string }) =>
          update(status, o, io),
        );
    }
  },
};
