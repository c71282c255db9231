// Child process (run as an unprivileged user): tries the queue on a file it may only read, and
// prints what each step gave as JSON: the error code, or what was read.
import { QueueClient } from "@queue/client";
import { Worker } from "@queue/worker-engine";

const path = process.argv[2] as string;
const outcome = async (work: () => unknown): Promise<unknown> => {
  try {
    return { ok: await work() };
  } catch (error) {
    return { code: (error as { code?: string }).code, message: (error as Error).message };
  }
};
const report: Record<string, unknown> = {};
report.openWritable = await outcome(() => new QueueClient({ path }) && "opened");
const reader = new QueueClient({ path, open: { readonly: true } });
report.counts = await outcome(() => reader.counts());
report.enqueue = await outcome(() => reader.enqueue("work", { n: 1 }).then(() => "enqueued"));
report.workerOpenWritable = await outcome(() => new Worker({ path, handlers: { work: () => undefined } }) && "opened");
const worker = new Worker({ path, open: { readonly: true }, handlers: { work: () => undefined } });
report.workerStart = await outcome(() => worker.start().then(() => "started"));
await worker.stop();
await reader.close();
process.stdout.write(`${JSON.stringify(report)}\n`);
