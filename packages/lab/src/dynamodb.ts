/**
 * The lab's DynamoDB: dynalite (in-memory LevelDB) in this process on 127.0.0.1, with the configured tables created
 * and ACTIVE before any function starts. Environments get `AWS_ENDPOINT_URL_DYNAMODB`, so an unmodified
 * `@aws-sdk/client-dynamodb` reaches it. Data lives as long as the lab.
 */

import { randomUUID } from "node:crypto";
import type { Server, ServerResponse } from "node:http";
import { createRequire } from "node:module";
import { allowList, guardServer } from "./http-guard.ts";
import { listen } from "./lambda-api/index.ts";

export interface TableSpec {
  name: string;
  /** The partition key attribute (type S). */
  partitionKey: string;
  /** Optional sort key attribute (type S). */
  sortKey?: string;
}

export interface DynamoDbOptions {
  tables: TableSpec[];
  port?: number;
  host?: string;
  region?: string;
  /** Host names accepted besides loopback ones and `host` (see http-guard.ts). */
  allowedHosts?: readonly string[];
}

export interface RunningDynamoDb {
  /** e.g. http://127.0.0.1:4567 — for AWS_ENDPOINT_URL_DYNAMODB. */
  endpoint: string;
  port: number;
  close(): Promise<void>;
}

/** Raised when dynalite refuses a table the config declared. */
export class DynamoDbSetupError extends Error {
  override readonly name = "DynamoDbSetupError";
}

type Dynalite = (options: Record<string, unknown>) => Server;
// dynalite is CommonJS without types, loaded on first use (it pulls in level and its friends).
let dynaliteFactory: Dynalite | undefined;
const loadDynalite = (): Dynalite => {
  dynaliteFactory ??= createRequire(import.meta.url)("dynalite") as Dynalite;
  return dynaliteFactory;
};

export async function startDynamoDb(options: DynamoDbOptions): Promise<RunningDynamoDb> {
  const host = options.host ?? "127.0.0.1";
  // Tables are ACTIVE at once: nothing in a lab waits for CREATING to pass.
  const server = loadDynalite()({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  // dynalite is not ours, but its port is the lab's: the same guard as every lab server, in DynamoDB's error shape.
  guardServer(server, {
    name: "dynamodb",
    allowedHosts: allowList(host, options.allowedHosts),
    refuse: (_req, res, refusal) => sendDynamoError(res, 400, "AccessDeniedException", refusal.message),
    fail: (_req, res, error) => sendDynamoError(res, 500, "InternalFailure", String(error)),
  });
  const running = await listen(server, host, options.port ?? 0);
  const { url: endpoint, port } = running;
  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= running.close();
    return closed;
  };
  try {
    for (const table of options.tables) await createTable(endpoint, table, options.region ?? "us-east-1");
  } catch (error) {
    await close();
    throw error;
  }
  return { endpoint, port, close };
}

function sendDynamoError(res: ServerResponse, status: number, type: string, message: string): void {
  const body = JSON.stringify({ __type: `com.amazon.coral.service#${type}`, message });
  res.writeHead(status, {
    "content-type": "application/x-amz-json-1.0",
    "content-length": Buffer.byteLength(body),
    "x-amzn-requestid": randomUUID(),
  });
  res.end(body);
}

async function createTable(endpoint: string, table: TableSpec, region: string): Promise<void> {
  const keys = [{ AttributeName: table.partitionKey, KeyType: "HASH" }];
  const attributes = [{ AttributeName: table.partitionKey, AttributeType: "S" }];
  if (table.sortKey) {
    keys.push({ AttributeName: table.sortKey, KeyType: "RANGE" });
    attributes.push({ AttributeName: table.sortKey, AttributeType: "S" });
  }
  const date = new Date().toISOString().replace(/[-:]|\.\d{3}/g, "");
  const response = await fetch(endpoint, {
    method: "POST",
    headers: {
      "content-type": "application/x-amz-json-1.0",
      "x-amz-target": "DynamoDB_20120810.CreateTable",
      "x-amz-date": date,
      // dynalite checks the header's shape, not the signature.
      authorization: `AWS4-HMAC-SHA256 Credential=faultline/${date.slice(0, 8)}/${region}/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0`,
    },
    body: JSON.stringify({
      TableName: table.name,
      KeySchema: keys,
      AttributeDefinitions: attributes,
      BillingMode: "PAY_PER_REQUEST",
    }),
  });
  if (!response.ok) {
    throw new DynamoDbSetupError(`dynamodb: cannot create table "${table.name}": ${await response.text()}`);
  }
}
