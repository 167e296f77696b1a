import { randomBytes } from "node:crypto";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** FIS ids look like `EXTAdYntpx3iQhkMW`: a prefix and 14 alphanumerics. */
export function newId(prefix: "EXT" | "EXP"): string {
  const bytes = randomBytes(14);
  let id = prefix;
  for (const b of bytes) id += ALPHABET[b % ALPHABET.length];
  return id;
}

export interface Account {
  region: string;
  accountId: string;
  partition: string;
}

export const templateArn = (a: Account, id: string) =>
  `arn:${a.partition}:fis:${a.region}:${a.accountId}:experiment-template/${id}`;
export const experimentArn = (a: Account, id: string) =>
  `arn:${a.partition}:fis:${a.region}:${a.accountId}:experiment/${id}`;
export const actionArn = (a: Account, id: string) =>
  `arn:${a.partition}:fis:${a.region}:${a.accountId}:action/${id}`;
export const safetyLeverArn = (a: Account, id: string) =>
  `arn:${a.partition}:fis:${a.region}:${a.accountId}:safety-lever/${id}`;

/** `arn:aws:fis:r:a:experiment-template/EXT…` → { kind, id }, or undefined for anything else. */
export function parseFisArn(
  arn: string,
): { kind: "experiment-template" | "experiment"; id: string } | undefined {
  const m = /^arn:[a-z-]+:fis:[^:]*:[^:]*:(experiment-template|experiment)\/(.+)$/.exec(arn);
  if (!m) return undefined;
  return { kind: m[1] as "experiment-template" | "experiment", id: m[2]! };
}
