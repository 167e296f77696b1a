// Runs an engine against moto until killed: the kill -9 test's victim. Prints one line per event
// so the parent can kill it at a chosen point. Not a test file itself.
import { Engine } from "../src/index.ts";
import { Moto } from "./moto.ts";
import { seedTemplate } from "./seed.ts";

const moto = Moto.attach(process.env.MOTO_ENDPOINT!);
const engine = await Engine.open({
  dataDir: process.env.DATA_DIR!,
  lambda: moto.lambda(),
  s3: moto.s3(),
  concurrency: 4,
  log: () => {},
});
engine.events.on("fault-object", (e) => console.log(`fault ${e.change} ${e.key}`));
engine.events.on("experiment", (e) => console.log(`experiment ${e.detail["new-state"].status}`));
const tpl = seedTemplate();
tpl.targets.fns.resourceTags = { crash: "yes" };
tpl.actions = {
  delay: {
    actionId: "aws:lambda:invocation-add-delay",
    parameters: { duration: "PT0.3S" },
    targets: { Functions: "fns" },
  },
  error: {
    actionId: "aws:lambda:invocation-error",
    parameters: { duration: "PT0.3S", preventExecution: "false" },
    targets: { Functions: "fns" },
    startAfter: ["delay"],
  },
};
const t = await engine.createExperimentTemplate(tpl);
const x = await engine.startExperiment({ experimentTemplateId: t.id });
console.log(`started ${x.id}`);
await engine.settled(x.id);
console.log("done");
await engine.close();
