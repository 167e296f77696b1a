/**
 * FIS's safety lever (GetSafetyLever / UpdateSafetyLeverState): one per account and Region, id "default".
 * Engaged, it stops every running experiment and cancels every experiment started until it is disengaged.
 * Its state is in the store, so an engaged lever stays engaged across restarts.
 */
import { ConflictException, ResourceNotFoundException, ValidationException } from "./errors.ts";
import { type Account, safetyLeverArn } from "./ids.ts";
import { SAFETY_LEVER_LIFECYCLE, type SafetyLeverStatus } from "./lifecycle.ts";
import type { Store } from "./store.ts";

/** The id FIS gives every account's lever. */
export const SAFETY_LEVER_ID = "default";

export interface SafetyLeverState {
  status: SafetyLeverStatus;
  reason: string;
}

/** FIS's `SafetyLever`. */
export interface SafetyLever {
  id: string;
  arn: string;
  state: SafetyLeverState;
}

/** What the lever needs from the engine. */
export interface SafetyLeverHost {
  /** Stops every live experiment with this state reason; resolves once each has ended (its faults removed). */
  stopEverything(experimentReason: string): Promise<void>;
  /** Tells the engine's event bus. */
  changed(lever: SafetyLever): void;
  say(message: string): void;
}

const INITIAL: SafetyLeverState = { status: "disengaged", reason: "Safety lever is disengaged." };

export class SafetyLevers {
  private state: SafetyLeverState;
  /** The engaging → engaged move in progress: waits for every experiment to stop. */
  private engaging: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    private readonly account: Account,
    private readonly host: SafetyLeverHost,
  ) {
    const saved = store.safetyLever(SAFETY_LEVER_ID);
    this.state = saved ? (saved as SafetyLeverState) : INITIAL;
  }

  get(id: string): SafetyLever {
    checkId(id);
    return this.view();
  }

  /** Why new experiments are cancelled now, or undefined while the lever is disengaged. */
  blocking(): string | undefined {
    if (this.state.status === "disengaged") return undefined;
    return `Experiment cancelled: the safety lever is ${this.state.status} (${this.state.reason}).`;
  }

  /**
   * UpdateSafetyLeverState. Engaging answers at once in `engaging`; the lever turns `engaged` once every running
   * experiment has stopped. Asking for the state the lever is in (or moving to) with the same reason returns it
   * unchanged; with another reason it is a ConflictException, as FIS answers.
   */
  update(id: string, input: unknown): SafetyLever {
    checkId(id);
    const wanted = parseUpdate(input);
    const current = this.state;
    const heading: SafetyLeverStatus = current.status === "disengaged" ? "disengaged" : "engaged";
    if (wanted.status === heading) {
      if (wanted.reason === current.reason) return this.view();
      throw new ConflictException(
        `The safety lever is already ${current.status} (${current.reason}); its reason changes only with its state.`,
      );
    }
    if (current.status === "engaging") {
      throw new ConflictException(
        "The safety lever is engaging (running experiments are stopping); disengage it once it is engaged.",
      );
    }
    const next = current.status === "disengaged" ? "engaging" : "disengaged";
    this.set({ status: next, reason: wanted.reason });
    if (next === "engaging") this.finishEngaging();
    return this.view();
  }

  /** After the engine reconciled a restart: an engage the previous process did not finish, finishes. */
  resume(): void {
    if (this.state.status === "engaging") this.finishEngaging();
  }

  /** Resolves once an engage in progress is done (the lever engaged). */
  async settled(): Promise<SafetyLever> {
    await this.engaging;
    return this.view();
  }

  private finishEngaging(): void {
    const reason = `Experiment stopped: the safety lever was engaged (${this.state.reason}).`;
    this.engaging ??= this.host
      .stopEverything(reason)
      .then(() => {
        if (this.state.status === "engaging") this.set({ status: "engaged", reason: this.state.reason });
      })
      .catch((error: unknown) => {
        this.host.say(`the safety lever stays engaging: ${(error as Error).message}`);
      })
      .finally(() => {
        this.engaging = undefined;
      });
  }

  private set(state: SafetyLeverState): void {
    SAFETY_LEVER_LIFECYCLE.move(this.state.status, state.status);
    // Written before the engine acts on it: an engage survives a crash in the middle of its stops.
    this.store.putSafetyLever(SAFETY_LEVER_ID, state);
    this.state = state;
    this.host.changed(this.view());
  }

  private view(): SafetyLever {
    return {
      id: SAFETY_LEVER_ID,
      arn: safetyLeverArn(this.account, SAFETY_LEVER_ID),
      state: { ...this.state },
    };
  }
}

/** SafetyLeverId: at most 64 non-space characters; only "default" exists. */
function checkId(id: string): void {
  if (id.length > 64 || !/^\S+$/.test(id)) {
    throw new ValidationException("id", "must be 1 to 64 characters without spaces");
  }
  if (id !== SAFETY_LEVER_ID) throw new ResourceNotFoundException(`Safety lever ${id} not found.`);
}

/** UpdateSafetyLeverStateRequest's body: `{ state: { status: "engaged" | "disengaged", reason } }`. */
function parseUpdate(input: unknown): SafetyLeverState {
  const body = objectOf(input, "(body)");
  for (const key of Object.keys(body)) {
    if (key !== "state") throw new ValidationException(key, "is not a known field");
  }
  if (body.state === undefined) throw new ValidationException("state", "is required");
  const state = objectOf(body.state, "state");
  for (const key of Object.keys(state)) {
    if (key !== "status" && key !== "reason")
      throw new ValidationException(`state.${key}`, "is not a known field");
  }
  if (state.status !== "engaged" && state.status !== "disengaged") {
    throw new ValidationException("state.status", 'must be "engaged" or "disengaged"');
  }
  if (typeof state.reason !== "string")
    throw new ValidationException("state.reason", "is required: a string");
  return { status: state.status, reason: state.reason };
}

function objectOf(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ValidationException(field, "must be a JSON object");
  }
  return value as Record<string, unknown>;
}
