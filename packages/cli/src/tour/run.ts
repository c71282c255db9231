import { existsSync, mkdirSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { QueueClient } from "@queue/client";
import { openQueueDatabase } from "@queue/core";
import { color, sqliteFilePath } from "../context.js";
import { UsageError } from "../errors.js";
import { claimStep } from "./claim.js";
import { enqueueStep } from "./enqueue.js";
import { maintainStep } from "./maintain.js";
import { observeStep } from "./observe.js";
import { askAtTerminal, type Pacer, straightThrough } from "./prompt.js";
import type { StepReport, TourContext, TourStep } from "./step.js";
import { strategiesStep } from "./strategies.js";
import { selfTestStep, validateStep } from "./validate.js";

export interface TourOptions {
  readonly db?: string;
  /** Run every step without waiting for Enter. */
  readonly yes: boolean;
  /** Print one JSON report at the end instead of the walk-through (implies `yes`). */
  readonly json: boolean;
}

/** The tour, in order: each step builds on the file the steps before it left. */
export const TOUR_STEPS: readonly TourStep[] = [
  validateStep,
  enqueueStep,
  claimStep,
  strategiesStep,
  observeStep,
  maintainStep,
  selfTestStep,
];

interface StepRecord extends StepReport {
  readonly name: string;
  readonly title: string;
  readonly calls: string[];
}

function tourFiles(options: TourOptions): { path: string; backupFile: string; archiveFile: string } {
  const path =
    options.db === undefined
      ? join(process.cwd(), "queue-demo", `tour-${new Date().toISOString().replace(/[:.]/g, "-")}.db`)
      : sqliteFilePath(options, "demo --tour");
  const stem = path.replace(/\.db$/, "");
  const files = { path, backupFile: `${stem}-backup.db`, archiveFile: `${stem}-archive.ndjson` };
  for (const file of Object.values(files)) {
    if (existsSync(file)) throw new UsageError(`The tour creates a fresh queue file, and ${file} exists; give --db a new path.`);
  }
  return files;
}

/** A path relative to the working directory when it is below it, else as it is. */
function readable(path: string): string {
  const below = relative(process.cwd(), path);
  return below === "" || below.startsWith("..") ? path : below;
}

/** `queue demo --tour`: every integration pattern, one step at a time, on a fresh file. */
export async function runTour(options: TourOptions): Promise<number> {
  const interactive = !options.yes && !options.json;
  if (interactive && process.stdin.isTTY !== true) {
    throw new UsageError(
      "The tour waits for Enter between steps, and standard input is not a terminal.",
      "run it in a terminal, or add --yes to run every step straight through",
    );
  }
  const files = tourFiles(options);
  const shown = readable(files.path);
  const print = (line: string) => {
    if (!options.json) process.stdout.write(`${line}\n`);
  };
  mkdirSync(dirname(files.path), { recursive: true });
  const db = openQueueDatabase({ path: files.path });
  const client = new QueueClient({ db });
  const pacer: Pacer = interactive ? askAtTerminal(process.stdin, process.stdout) : straightThrough;
  const records: StepRecord[] = [];
  const shared = new Map<string, unknown>();
  let stoppedAfter: number | undefined;
  try {
    print(`${color.bold("queue demo --tour")}: every integration pattern, one step at a time, on a fresh file at ${color.cyan(shown)}`);
    print(interactive ? "Press Enter to go on after each step, or q then Enter to stop.\n" : "");
    for (const [index, step] of TOUR_STEPS.entries()) {
      if (
        index > 0 &&
        !(await pacer.next(`\n${color.dim(`Enter: step ${index + 1} of ${TOUR_STEPS.length} (${step.name}), or q: stop`)} `))
      ) {
        stoppedAfter = index;
        break;
      }
      const calls: string[] = [];
      const tour: TourContext = {
        db,
        client,
        ...files,
        shared,
        call: (code, ...outcome) => {
          calls.push(code);
          print(`   ${color.cyan(`> ${code}`)}`);
          for (const line of outcome) print(`     ${line}`);
        },
        note: (line) => print(`   ${color.dim(line)}`),
      };
      if (index > 0) print("");
      print(`${color.bold(`Step ${index + 1} of ${TOUR_STEPS.length}: ${step.title}`)}`);
      print(`   ${step.summary}\n`);
      const report = await step.run(tour);
      records.push({ name: step.name, title: step.title, calls, ...report });
      if (!report.ok) print(`   ${color.red(`This step did not go as expected: ${JSON.stringify(report.data)}`)}`);
    }
  } finally {
    pacer.close();
    await client.close();
    db.close();
  }
  const ok = records.every((record) => record.ok);
  if (options.json) {
    const report = { ...files, ok, steps: records };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else if (stoppedAfter !== undefined) {
    print(`\nStopped after step ${stoppedAfter} of ${TOUR_STEPS.length}. The file stays at ${shown}.`);
  } else {
    const quoted = JSON.stringify(shown);
    print(`\n${color.bold(ok ? "That was every pattern." : "The tour ended, but a step did not go as expected (above).")}`);
    print(`The file, its backup and archive stay beside each other at ${color.cyan(shown)}. Try next:`);
    print(`  pnpm queue stats --db ${quoted}`);
    print(`  pnpm queue validate --db ${quoted}`);
    print(`  pnpm queue integrity --db ${JSON.stringify(readable(files.backupFile))}`);
    print("  the integration guide: docs/integration-guide.md");
  }
  return ok ? 0 : 1;
}
