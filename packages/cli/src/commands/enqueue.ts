import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { type EnqueueOptions, QueueClient } from "@queue/client";
import type { Command } from "commander";
import { type GlobalOptions, openStore, output } from "../context.js";
import { UsageError } from "../errors.js";
import { parseDuration, parseInteger, parseJsonArgument } from "../parse.js";
import { startProgress } from "../progress.js";

interface EnqueueFlags {
  priority?: string;
  delay?: string;
  runAt?: string;
  maxAttempts?: string;
  idempotencyKey?: string;
  timeout?: string;
  ndjson?: boolean;
  file?: string;
  batch?: string;
}

function enqueueOptions(flags: EnqueueFlags): EnqueueOptions {
  const options: { -readonly [K in keyof EnqueueOptions]: EnqueueOptions[K] } = {};
  if (flags.priority !== undefined) options.priority = parseInteger(flags.priority, "--priority");
  if (flags.delay !== undefined) options.delayMs = parseDuration(flags.delay, "--delay");
  if (flags.runAt !== undefined) {
    const at = new Date(flags.runAt);
    if (Number.isNaN(at.getTime()))
      throw new UsageError(`--run-at expects an ISO date such as 2030-01-01T09:00:00Z; got ${JSON.stringify(flags.runAt)}.`);
    options.runAt = at;
  }
  if (flags.maxAttempts !== undefined) options.maxAttempts = parseInteger(flags.maxAttempts, "--max-attempts", 1, 1_000);
  if (flags.idempotencyKey !== undefined) options.idempotencyKey = flags.idempotencyKey;
  if (flags.timeout !== undefined) options.timeoutMs = parseDuration(flags.timeout, "--timeout");
  return options;
}

/** The flag behind each enqueue option, so that the client's messages speak of what was typed. */
const FLAG_OF_OPTION: Readonly<Record<string, string>> = {
  priority: "--priority",
  delayMs: "--delay",
  runAt: "--run-at",
  maxAttempts: "--max-attempts",
  idempotencyKey: "--idempotency-key",
  timeoutMs: "--timeout",
};

function inFlagTerms(error: unknown): unknown {
  if (error instanceof Error) {
    error.message = error.message
      .replace(/\bEnqueue option (\w+)/g, (whole, name: string) => FLAG_OF_OPTION[name] ?? whole)
      .replace("Give either runAt or delayMs, not both.", "Give either --run-at or --delay, not both.");
  }
  return error;
}

/** Reads one JSON payload per line (blank lines skipped) and enqueues them in batches. */
async function enqueueLines(
  client: QueueClient,
  type: string,
  flags: EnqueueFlags,
  options: EnqueueOptions,
  json: boolean,
): Promise<{ count: number; ids: number[] }> {
  const batchSize = flags.batch === undefined ? 1_000 : parseInteger(flags.batch, "--batch", 1, 100_000);
  const input = flags.file === undefined ? process.stdin : createReadStream(flags.file);
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  const ids: number[] = [];
  let batch: { type: string; payload: unknown; options: EnqueueOptions }[] = [];
  let lineNumber = 0;
  let committedThrough = 0;
  const progress = startProgress("enqueueing", { json });
  const flush = async () => {
    if (batch.length === 0) return;
    for (const result of await client.enqueueMany(batch)) ids.push(result.task.id);
    batch = [];
    committedThrough = lineNumber;
    progress.update(ids.length);
  };
  try {
    for await (const read of lines) {
      lineNumber += 1;
      // A byte order mark (files saved by some Windows editors) is not part of the first payload.
      const line = lineNumber === 1 && read.startsWith("\uFEFF") ? read.slice(1) : read;
      if (line.trim() === "") continue;
      batch.push({ type, payload: parseJsonArgument(line, `Line ${lineNumber}`), options });
      if (batch.length >= batchSize) await flush();
    }
    await flush();
  } catch (error) {
    // Batches already committed stay: say so, and where to resume, instead of only the failure.
    if (ids.length > 0 && error instanceof Error) {
      error.message = `${error.message} ${ids.length} task(s) from lines 1 to ${committedThrough} were committed (ids ${ids[0]} to ${ids.at(-1)}); resume after line ${committedThrough}.`;
    }
    throw error;
  } finally {
    progress.stop();
    lines.close();
  }
  return { count: ids.length, ids };
}

export function registerEnqueue(program: Command, globals: () => GlobalOptions): void {
  program
    .command("enqueue")
    .description("add a task; or many, one JSON payload per line, with --ndjson")
    .argument("<type>", "the task type (the handler that runs it)")
    .argument("[payload]", "the payload as JSON (default null)")
    .option("--priority <n>", "lower runs first under the priority strategy")
    .option("--delay <duration>", "do not run before this long from now (30s, 15m, 2h)")
    .option("--run-at <iso>", "do not run before this time")
    .option("--max-attempts <n>", "attempts before dead-lettering (default 3)")
    .option("--idempotency-key <key>", "enqueueing the same key again returns the first task")
    .option("--timeout <duration>", "abort an attempt that runs longer")
    .option("--ndjson", "read payloads from stdin (or --file), one JSON value per line")
    .option("--file <path>", "with --ndjson: read this file instead of stdin")
    .option("--batch <n>", "with --ndjson: tasks per transaction (default 1000)")
    .addHelpText(
      "after",
      `\nExamples:\n  queue enqueue send-email '{"to":"ada@example.com"}' --max-attempts 5\n  queue enqueue report null --delay 1h --idempotency-key report-2030-01-01\n  seq 1 1000 | jq -c '{n: .}' | queue enqueue resize --ndjson`,
    )
    .action(async (type: string, payloadText: string | undefined, flags: EnqueueFlags) => {
      const options = globals();
      const enqueue = enqueueOptions(flags);
      if (flags.ndjson && payloadText !== undefined)
        throw new UsageError(
          "--ndjson reads the payloads from stdin (or --file), one per line; drop the payload argument, or drop --ndjson to add this one task.",
        );
      if (flags.file !== undefined && !flags.ndjson) throw new UsageError("--file reads payloads with --ndjson; add --ndjson.");
      if (flags.batch !== undefined && !flags.ndjson) throw new UsageError("--batch sizes the transactions of --ndjson; add --ndjson.");
      if (flags.ndjson && flags.idempotencyKey !== undefined)
        throw new UsageError(
          "--idempotency-key names one task; with --ndjson every line would share it. Put the keys in separate enqueue calls.",
        );
      const store = openStore(options);
      const client = new QueueClient({ store });
      try {
        if (flags.ndjson) {
          const result = await enqueueLines(client, type, flags, enqueue, options.json ?? false).catch((error: unknown) => {
            throw inFlagTerms(error);
          });
          output(options, result, (value) => `Enqueued ${value.count} ${type} task(s).`);
          return;
        }
        const payload = parseJsonArgument(payloadText ?? "null", "The payload");
        const { task, created } = await client.enqueue(type, payload, enqueue).catch((error: unknown) => {
          throw inFlagTerms(error);
        });
        output(options, { task, created }, (value) =>
          value.created
            ? `Enqueued task ${value.task.id} (${value.task.type}).`
            : `Task ${value.task.id} already exists for idempotency key ${value.task.idempotencyKey}; nothing added.`,
        );
      } finally {
        await client.close();
        await store.close();
      }
    });
}
