// The handlers module given to `queue work --handlers` in chaos runs: the same recording handler
// as the script workers, configured through the environment.
import { recordingHandler } from "./chaos-record.js";

const dir = process.env.CHAOS_LOG_DIR;
if (dir === undefined) throw new Error("CHAOS_LOG_DIR is not set");

export default { work: recordingHandler(dir, Number(process.env.CHAOS_WORK_MS ?? "5")) };
