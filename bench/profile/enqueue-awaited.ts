import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { enqueueAwaited, enqueueConcurrent } from "../src/queue-ops.js";

const dir = mkdtempSync(join(tmpdir(), "prof-"));
const mode = process.argv[2];
for (let i = 0; i < 3; i++)
  console.log(
    Math.round(
      mode === "concurrent"
        ? await enqueueConcurrent(join(dir, `q${i}.db`), 100_000, 1000)
        : await enqueueAwaited(join(dir, `q${i}.db`), 20_000),
    ),
  );
