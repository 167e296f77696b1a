/**
 * `faultline templates create|list|get|update|delete`: FIS experiment templates through the API.
 * Template files are FIS JSON (what `aws fis create-experiment-template --cli-input-json` takes).
 */
import { readFileSync } from "node:fs";
import {
  CreateExperimentTemplateCommand,
  DeleteExperimentTemplateCommand,
  GetExperimentTemplateCommand,
  ListExperimentTemplatesCommand,
  UpdateExperimentTemplateCommand,
} from "@aws-sdk/client-fis";
import type { CliCommand, CliIO } from "../command.ts";
import { group } from "../command.ts";
import { UsageError } from "../errors.ts";
import { type ClientOptions, call, clientOptions, connect, table, toJson } from "./fis-client.ts";

function readJson(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new UsageError(`${file} is not JSON: ${(error as Error).message}`);
  }
}

const when = (d: Date | undefined) => (d ? d.toISOString().replace(/\.\d+Z$/, "Z") : "-");

export const templates: CliCommand = {
  name: "templates",
  register(program, io: CliIO) {
    const g = group(program, "templates", "Manage FIS experiment templates");
    clientOptions(g.command("create").description("Create a template from a FIS JSON file"))
      .requiredOption("-f, --file <file>", "template JSON (FIS CreateExperimentTemplate shape)")
      .action(async (o: ClientOptions & { file: string }) => {
        const body = readJson(o.file);
        const out = await call(connect(o), (c) =>
          c.send(new CreateExperimentTemplateCommand({ clientToken: undefined, ...body } as never)),
        );
        io.stdout(o.json ? toJson(out.experimentTemplate) : `${out.experimentTemplate?.id}\n`);
      });
    clientOptions(g.command("list").description("List templates")).action(async (o: ClientOptions) => {
      const client = connect(o);
      const all = [];
      let nextToken: string | undefined;
      do {
        const page = await call(client, (c) => c.send(new ListExperimentTemplatesCommand({ nextToken })));
        all.push(...(page.experimentTemplates ?? []));
        nextToken = page.nextToken;
      } while (nextToken);
      if (o.json) return io.stdout(toJson(all));
      io.stdout(
        table([
          ["ID", "CREATED", "DESCRIPTION"],
          ...all.map((t) => [t.id ?? "", when(t.creationTime), t.description ?? ""]),
        ]),
      );
    });
    clientOptions(g.command("get <id>").description("Show a template (FIS JSON)")).action(
      async (id: string, o: ClientOptions) => {
        const out = await call(connect(o), (c) => c.send(new GetExperimentTemplateCommand({ id })));
        io.stdout(toJson(out.experimentTemplate));
      },
    );
    clientOptions(
      g.command("update <id>").description("Update a template from a JSON file (given fields replace)"),
    )
      .requiredOption("-f, --file <file>", "fields to change (FIS UpdateExperimentTemplate shape)")
      .action(async (id: string, o: ClientOptions & { file: string }) => {
        const body = readJson(o.file);
        const out = await call(connect(o), (c) =>
          c.send(new UpdateExperimentTemplateCommand({ ...body, id } as never)),
        );
        io.stdout(o.json ? toJson(out.experimentTemplate) : `${out.experimentTemplate?.id} updated\n`);
      });
    clientOptions(g.command("delete <id>").description("Delete a template")).action(
      async (id: string, o: ClientOptions) => {
        const out = await call(connect(o), (c) => c.send(new DeleteExperimentTemplateCommand({ id })));
        io.stdout(o.json ? toJson(out.experimentTemplate) : `${id} deleted\n`);
      },
    );
  },
};
