import { EventEmitter } from "node:events";
import type { ActionStatus, ExperimentReport, ExperimentStatus } from "./model.ts";
import type { SafetyLever } from "./safety-lever.ts";

/** FIS's EventBridge "FIS Experiment State Change" event, as published on the in-process bus. */
export interface ExperimentStateChangeEvent {
  version: "0";
  id: string;
  "detail-type": "FIS Experiment State Change";
  source: "aws.fis";
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: {
    "experiment-id": string;
    "experiment-template-id": string;
    "new-state": { status: ExperimentStatus; reason: string };
    "old-state": { status: ExperimentStatus; reason: string };
  };
}

export interface ActionStateChangeEvent {
  experimentId: string;
  actionName: string;
  status: ActionStatus;
  reason: string;
}

export interface FaultObjectEvent {
  experimentId: string;
  actionName: string;
  bucket: string;
  key: string;
  change: "written" | "deleted";
}

/** An experiment report changed state (pending → running → completed | failed, or cancelled). */
export interface ReportStateChangeEvent {
  experimentId: string;
  experimentReport: ExperimentReport;
}

interface EventMap {
  experiment: [ExperimentStateChangeEvent];
  action: [ActionStateChangeEvent];
  "fault-object": [FaultObjectEvent];
  report: [ReportStateChangeEvent];
  /** The safety lever changed state (FIS's `SafetyLever` shape). */
  "safety-lever": [SafetyLever];
}

/** Typed in-process bus: `experiment` (FIS-shaped), `action`, `fault-object`, `report` and `safety-lever` events. */
export class EngineEvents extends EventEmitter<EventMap> {
  constructor() {
    super();
    this.setMaxListeners(100);
  }
}
