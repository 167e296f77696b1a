import type { Corruption, Fault } from "./fault.ts";

/**
 * faultline:lambda:response-corruption — the handler runs; its response is replaced by a corrupted copy, to test
 * how callers parse. Errors pass through untouched (they are not a response to corrupt).
 */
export const responseCorruption: Fault<"faultline:lambda:response-corruption"> = {
  slot: "outcome",
  inject: (parameters) => ({
    kind: "outcome",
    preventExecution: false,
    outcome: { kind: "corrupt", corruption: parameters.corruption },
  }),
};

const CLOSING = new Set([0x7d, 0x5d]); // } ]
const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);

/**
 * `truncated`: the first half of the bytes (a response cut off mid-way; a bare number may still parse).
 * `malformed`: a trailing comma before the last closing bracket (`{"ok":true,}`), or `,}` appended when the body
 * does not end in one. Never valid JSON: outside a string a comma cannot precede a closing bracket, and a final
 * bracket inside a string leaves that string unterminated.
 */
export function corrupt(body: Buffer, corruption: Corruption): Buffer {
  if (corruption === "truncated") return body.subarray(0, Math.floor(body.length / 2));
  let end = body.length;
  while (end > 0 && WHITESPACE.has(body[end - 1] as number)) end--;
  if (end > 0 && CLOSING.has(body[end - 1] as number)) {
    return Buffer.concat([body.subarray(0, end - 1), Buffer.from(","), body.subarray(end - 1)]);
  }
  return Buffer.concat([body, Buffer.from(",}")]);
}
