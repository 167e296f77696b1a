// Entry point of faultline/in-process-faults.cjs: the in-process mode's fault side, required by the preload
// (faultline/in-process.cjs) when the runtime asks for its first event.
export { openFaultSide } from "./in-process/fault-side.ts";
