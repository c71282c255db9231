// Child process for crash-atomicity tests: prints "started" right before one long operation and
// "done <ms>" after it, so the parent can kill it with SIGKILL at a chosen moment in between.
//   enqueue-many PATH COUNT   one enqueueMany call of COUNT tasks
//   cleanup PATH BATCH        cleanup (with archive) of every completed task, BATCH rows per transaction
//   backup PATH DEST          maintenance backup of PATH to DEST
//   migrate PATH              open PATH, which brings its schema up to date
import { performance } from "node:perf_hooks";
import { QueueClient } from "@queue/client";
import { openQueueDatabase } from "@queue/core";
import { backup, cleanup } from "@queue/maintenance";

const [mode, path, arg] = process.argv.slice(2) as [string, string, string | undefined];
let started = 0;
const start = () => {
  process.stdout.write("started\n");
  started = performance.now();
};
const done = (detail: unknown) => process.stdout.write(`done ${Math.round(performance.now() - started)} ${JSON.stringify(detail)}\n`);

switch (mode) {
  case "enqueue-many": {
    const client = new QueueClient({ path });
    const items = Array.from({ length: Number(arg) }, (_, n) => ({ type: "bulk", payload: { n, text: "x".repeat(40) } }));
    start();
    const results = await client.enqueueMany(items);
    done(results.length);
    await client.close();
    break;
  }
  case "cleanup": {
    const db = openQueueDatabase({ path });
    start();
    const report = await cleanup(db, { completedOlderThanMs: 0, archive: true, batchSize: Number(arg) });
    done(report);
    db.close();
    break;
  }
  case "backup": {
    const db = openQueueDatabase({ path });
    start();
    const result = await backup(db, arg as string);
    done(result.pages);
    db.close();
    break;
  }
  case "migrate": {
    start();
    const db = openQueueDatabase({ path });
    done(db.schemaVersion());
    db.close();
    break;
  }
  default:
    throw new Error(`unknown mode ${mode}`);
}
