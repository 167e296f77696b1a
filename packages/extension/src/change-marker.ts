import type { MarkerRead } from "./s3.ts";

/**
 * What the extension knows of its function's change marker (`<prefix>.faultline/markers/<function>`, rewritten
 * by the faultline engine after every fault-object write and delete):
 * - unknown: not read yet;
 * - current: read, ETag remembered (the next read is conditional: 304 while nothing changed);
 * - absent: no marker (AWS FIS itself writes none; or no faultline experiment ran yet);
 * - unreachable: the read failed (403, 5xx, timeout): checks back off to the slow interval, the list poll
 *   carries on alone (fail open).
 */
export type MarkerState = "unknown" | "current" | "absent" | "unreachable";

/** One read's answer: the store's three, plus a failed read. */
export type MarkerAnswer = MarkerRead["kind"] | "failed";

interface Transition {
  to: MarkerState;
  /** List the function's fault objects now (something may have changed that the marker cannot vouch for). */
  list: boolean;
}

const T = (to: MarkerState, list: boolean): Transition => ({ to, list });

/**
 * Every (state, answer) pair, read top to bottom. A first read, a change, and a recovery from failure all list:
 * a change made while the marker could not be read must not wait for the slow poll.
 */
const TRANSITIONS: Record<MarkerState, Record<MarkerAnswer, Transition>> = {
  unknown: {
    unchanged: T("current", true),
    changed: T("current", true),
    missing: T("absent", true),
    failed: T("unreachable", true),
  },
  current: {
    unchanged: T("current", false),
    changed: T("current", true),
    missing: T("absent", true),
    failed: T("unreachable", false),
  },
  absent: {
    unchanged: T("current", true),
    changed: T("current", true),
    missing: T("absent", false),
    failed: T("unreachable", false),
  },
  unreachable: {
    unchanged: T("current", true),
    changed: T("current", true),
    missing: T("absent", true),
    failed: T("unreachable", false),
  },
};

/**
 * The marker's state machine, without I/O: `read()` says what to ask (the ETag for If-None-Match), `answer()`
 * applies the store's reply and says whether to list. A changed ETag is only adopted once the listing it caused
 * succeeded (`listed`), so a failed listing is retried on the next check instead of being hidden by a 304.
 */
export class ChangeMarker {
  #state: MarkerState = "unknown";
  #etag: string | undefined;
  #pendingEtag: string | undefined;

  get state(): MarkerState {
    return this.#state;
  }

  /** The ETag to send as If-None-Match (undefined: unconditional). */
  get etag(): string | undefined {
    return this.#etag;
  }

  /** Applies one read's answer; returns whether the function's fault objects must be listed now. */
  answer(read: MarkerRead | { kind: "failed" }): boolean {
    const transition = TRANSITIONS[this.#state][read.kind];
    this.#state = transition.to;
    if (read.kind === "missing") this.#etag = undefined;
    this.#pendingEtag = read.kind === "changed" ? read.etag : undefined;
    return transition.list;
  }

  /** The listing an answer asked for ended: on success a changed ETag is adopted; on failure it is not. */
  listed(ok: boolean): void {
    if (ok && this.#pendingEtag !== undefined) this.#etag = this.#pendingEtag;
    this.#pendingEtag = undefined;
  }
}
