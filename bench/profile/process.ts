import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { processInProcess } from "../src/queue-ops.js";

const dir = mkdtempSync(join(tmpdir(), "prof-"));
for (let i = 0; i < 3; i++) console.log(Math.round(await processInProcess(join(dir, `q${i}.db`), 40_000, 50)));
