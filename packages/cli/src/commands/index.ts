/**
 * The CLI's command table, read top to bottom. To add a command: write `commands/<name>.ts` exporting a CliCommand
 * and add it here. `lab up` and `layer build` launch local things; `layer publish`, `enable` and `disable` talk to
 * Lambda through the AWS SDK; every other command talks to the FIS API only.
 */
import type { CliCommand } from "../command.ts";
import { disable, enable } from "./enable.ts";
import { experiments } from "./experiments.ts";
import { iamPolicy } from "./iam-policy.ts";
import { labUp } from "./lab-up.ts";
import { layerBuild } from "./layer.ts";
import { layerPublish } from "./layer-publish.ts";
import { report } from "./report.ts";
import { safetyLever } from "./safety-lever.ts";
import { scenarios } from "./scenarios.ts";
import { serve } from "./serve.ts";
import { templates } from "./templates.ts";
import { test } from "./test.ts";
import { up } from "./up.ts";

export const commands: CliCommand[] = [
  labUp, // faultline lab up --config <file> [--json]
  layerBuild, // faultline layer build [--out <zip>] [--standalone]
  layerPublish, // faultline layer publish [--name faultline] [--zip <file>] [--region …] [--endpoint-url …]
  enable, // faultline enable <function…> --bucket B [--prefix P] [--layer ARN] [--tag k=v] [--dry-run] [--force]
  disable, // faultline disable <function…> [--tag k=v] [--dry-run]
  iamPolicy, // faultline iam-policy function|engine --bucket B [--prefix P] [--report-bucket R]
  up, // faultline up --config <lab.json> [--json]: lab + engine + FIS API
  serve, // faultline serve [--port] [--lambda-endpoint …] [--s3-endpoint …] [--cloudwatch-endpoint …]
  templates, // faultline templates create|list|get|update|delete
  scenarios, // faultline scenarios list|show <name>|create <name> [--param k=v …] [--role-arn …]
  experiments, // faultline experiments start [--watch|--preview]|preview|get|list|stop [--all]
  test, // faultline test <file…> [--junit out.xml] [--report-dir d]: resilience tests (exit 0/1/2)
  report, // faultline report <experimentId> [--out <dir>] [--open] [--rebuild]
  safetyLever, // faultline safety-lever status|engage|disengage [--reason …] [--no-wait]: FIS's safety lever
];
