import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { enqueueManyBatches } from "../src/queue-ops.js";

const dir = mkdtempSync(join(tmpdir(), "prof-"));
for (let i = 0; i < 3; i++) console.log(Math.round(await enqueueManyBatches(join(dir, `q${i}.db`), 200_000, 1000)));
