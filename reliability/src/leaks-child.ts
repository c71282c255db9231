// Child process: uses a part of the queue, shuts it down, and then must exit on its own: it never
// calls process.exit. Before returning from its main code it prints the resources still keeping the
// event loop alive (timers, handles), which must be none but standard output itself
// once already scheduled one-off callbacks have run.
//   worker-client PATH     a Worker and a QueueClient (separate connections) process 300 tasks
//   shared-db PATH         a Worker and a QueueClient on one QueueDatabase, plus runUntilEmpty
//   task-manager PATH      a QueuedTaskManager runs 20 runs with its embedded worker
import { QueueClient } from "@queue/client";
import { openQueueDatabase } from "@queue/core";
import { QueuedTaskManager } from "@queue/integration";
import { Worker } from "@queue/worker-engine";

const [mode, path] = process.argv.slice(2) as [string, string];
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function untilCompleted(client: QueueClient, count: number): Promise<void> {
  while ((await client.counts()).completed < count) await wait(10);
}

let processed = 0;
switch (mode) {
  case "worker-client": {
    const client = new QueueClient({ path });
    const worker = new Worker({ path, concurrency: 8, pollIntervalMs: 10, handlers: { work: () => void processed++ } });
    worker.on("error", () => undefined);
    await worker.start();
    await client.enqueueMany(Array.from({ length: 300 }, (_, n) => ({ type: "work", payload: { n } })));
    await untilCompleted(client, 300);
    await worker.stop();
    await client.close();
    break;
  }
  case "shared-db": {
    const db = openQueueDatabase({ path });
    const client = new QueueClient({ db });
    const worker = new Worker({ db, concurrency: 4, pollIntervalMs: 10, heartbeatMs: 20, handlers: { work: () => void processed++ } });
    await worker.start();
    await Promise.all(Array.from({ length: 100 }, (_, n) => client.enqueue("work", { n })));
    await untilCompleted(client, 100);
    await worker.stop();
    await client.enqueueMany(Array.from({ length: 50 }, (_, n) => ({ type: "work", payload: { n } })));
    const drainer = new Worker({ db, handlers: { work: () => void processed++ } });
    await drainer.runUntilEmpty();
    await client.close();
    db.close();
    break;
  }
  case "task-manager": {
    const manager = new QueuedTaskManager({ path, embeddedWorker: { pollIntervalMs: 5 }, syncIntervalMs: 10 });
    manager.registerModule("job", async () => {
      processed += 1;
      return { exitCode: 0 };
    });
    for (let n = 0; n < 20; n++) await manager.startTask({ id: `job-${n}`, moduleId: "job", parameters: {} });
    await manager.waitAll();
    await manager.close();
    break;
  }
  default:
    throw new Error(`unknown mode ${mode}`);
}
// What still holds the event loop once work already scheduled (an immediate, a short timeout) has
// run; standard output is a pipe or a TTY.
await wait(50);
const resources = process.getActiveResourcesInfo().filter((name) => !/^(PipeWrap|TTYWrap|FSReqCallback)$/.test(name));
process.stdout.write(`${JSON.stringify({ processed, resources })}\n`);
