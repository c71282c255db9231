import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { makeTempDir, removeTempDirs, runTypeScript, tempDbPath } from "@queue/test-support";
import { afterEach, beforeAll, describe, expect, it } from "vitest";

afterEach(removeTempDirs);

const BIN = fileURLToPath(new URL("../src/bin.ts", import.meta.url));
const TSX_LOADER = createRequire(import.meta.url).resolve("tsx");
const STEPS = ["validate", "enqueue", "claim", "strategies", "observe", "maintain", "self-test"];
const LABELS = ["A", "B", "C", "D", "E", "F", "G", "H"];

/** Runs the real `queue` binary with piped standard streams; `NO_COLOR` keeps the output plain. */
async function queue(args: string[]) {
  const result = await runTypeScript(BIN, args, { env: { NO_COLOR: "1", QUEUE_DB_PATH: undefined } });
  return { ...result, json: () => JSON.parse(result.stdout) };
}

/** The step headings in the order they were printed. */
const headings = (text: string) => [...text.matchAll(/^Step (\d) of 7: /gm)].map((match) => Number(match[1]));

interface TerminalSession {
  /** Everything the tour wrote to its terminal so far, with the terminal's \r\n as \n. */
  output(): string;
  /** Resolves once the output matches; rejects with what was seen if it does not within the timeout. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Types a line at the terminal. */
  type(line: string): void;
  readonly exited: Promise<number | null>;
}

/**
 * Starts the real binary inside a pseudo-terminal made by util-linux's `script`: the tour sees a
 * terminal on standard input and output, exactly as a person at a shell would give it.
 */
function inTerminal(args: string[]): TerminalSession {
  const quote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;
  const command = [process.execPath, "--conditions=@queue/source", "--import", TSX_LOADER, BIN, ...args].map(quote).join(" ");
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
  delete env.QUEUE_DB_PATH;
  const child = spawn("script", ["-qfec", command, "/dev/null"], { stdio: ["pipe", "pipe", "pipe"], env });
  let seen = "";
  const listeners = new Set<() => void>();
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    seen += chunk.replace(/\r\n/g, "\n");
    for (const listener of listeners) listener();
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    seen += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  return {
    output: () => seen,
    waitFor: (pattern, timeoutMs = 60_000) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!pattern.test(seen)) return;
          clearTimeout(timer);
          listeners.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`the tour did not print ${pattern} within ${timeoutMs} ms; it printed:\n${seen}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      }),
    type: (line) => child.stdin.write(`${line}\n`),
    exited,
  };
}

describe("queue demo --tour --yes (the binary, straight through)", () => {
  it("walks through all seven steps in order, printing the API call of each, and leaves a verified backup", async () => {
    const db = tempDbPath("tour.db");
    const result = await queue(["demo", "--tour", "--yes", "--db", db]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(headings(result.stdout)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    // Every step shows at least one API call before the next step begins.
    const sections = result.stdout.split(/^Step \d of 7: /m).slice(1);
    expect(sections.map((section) => /^ {3}> \S/m.test(section))).toEqual(STEPS.map(() => true));
    for (const call of [
      "await new QueueValidator(db).validateAll()",
      "await client.enqueueMany(images)",
      'await new Worker({ db, strategy: "lifo", concurrency: 1, prefetch: 0, handlers }).runUntilEmpty()',
      "toPrometheus(snapshot)",
      'checkpoint(db, "TRUNCATE")',
      "await validateWorkerIntegration(db)",
    ]) {
      expect(result.stdout).toContain(`> ${call}`);
    }
    expect(result.stdout).toMatch(/second call: task (\d+), created false/);
    expect(result.stdout).toMatch(/> await new TaskLogger\(db\)\.forTask\(\d+\)\n {5}info "sent", written by the handler/);
    expect(result.stdout).toMatch(/^ {5}A B C D E F G H {2}\(oldest first\)$/m);
    expect(result.stdout).toMatch(/^ {5}H G F E D C B A {2}\(newest first\)$/m);
    expect(result.stdout).toMatch(/^ {5}F B D H A E C G {2}\(lowest number first/m);
    expect(result.stdout).toMatch(/^ {7}queue_tasks\{status="completed"\} 46$/m);
    expect(result.stdout).toContain("pass: enqueue -> claim -> complete round trip succeeded");
    expect(result.stdout).toContain("That was every pattern.");
    expect(existsSync(db.replace(/\.db$/, "-backup.db"))).toBe(true);
    expect(existsSync(db.replace(/\.db$/, "-archive.ndjson"))).toBe(true);
  });

  it("--json reports each step's facts: the orders the strategies produced, idempotency, the delay, the backup", async () => {
    const db = tempDbPath("tour.db");
    const result = await queue(["demo", "--tour", "--json", "--db", db]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const report = result.json();
    expect(report).toMatchObject({ path: db, ok: true });
    expect(report.steps.map((step: { name: string }) => step.name)).toEqual(STEPS);
    const step = (name: string) => report.steps.find((entry: { name: string }) => entry.name === name);
    for (const name of STEPS) expect([name, step(name).ok, step(name).calls.length > 0]).toEqual([name, true, true]);
    expect(step("validate").data.status).toBe("pass");
    const enqueued = step("enqueue").data;
    expect(enqueued.idempotent.second).toBe(enqueued.idempotent.first);
    expect(enqueued.idempotent.secondCreated).toBe(false);
    expect(enqueued.batch).toHaveLength(5);
    expect(step("claim").data).toMatchObject({ completed: enqueued.created, failed: 0 });
    // The delayed task ran once due, and not before: about 1.5 s after it was enqueued.
    expect(step("claim").data.delayed.startedAfterDueMs).toBeGreaterThanOrEqual(0);
    expect(step("claim").data.delayed.startedAfterEnqueueMs).toBeGreaterThanOrEqual(1_450);
    const { orders } = step("strategies").data;
    expect(orders.fifo).toEqual(LABELS);
    expect(orders.lifo).toEqual([...LABELS].reverse());
    expect(orders.priority).toEqual(["F", "B", "D", "H", "A", "E", "C", "G"]);
    expect([...orders.weighted_random].sort()).toEqual(LABELS);
    expect(step("observe").data).toMatchObject({ health: "ok", depth: { queued: 0, leased: 0, completed: enqueued.created + 32 } });
    expect(step("maintain").data.backup).toMatchObject({ verified: true });
    expect(step("maintain").data.cleanup.completed).toBe(enqueued.created + 32 - 1); // the newest task always stays
    expect(step("maintain").data.checkpoint.walBytesAfter).toBe(0);
    expect(step("self-test").data).toMatchObject({ status: "pass", counts: { queued: 0, leased: 0 } });
  });

  it("refuses what would spoil the tour: no terminal and no --yes, an existing file, plain-demo flags, --yes without --tour", async () => {
    const db = tempDbPath("tour.db");
    const piped = await queue(["demo", "--tour", "--db", db]);
    expect([piped.code, piped.stdout]).toEqual([2, ""]);
    expect(piped.stderr).toMatch(/standard input is not a terminal[\s\S]*add --yes/);
    expect(existsSync(db)).toBe(false);

    expect((await queue(["demo", "--tour", "--yes", "--db", db])).code).toBe(0);
    const again = await queue(["demo", "--tour", "--yes", "--db", db]);
    expect([again.code, again.stderr]).toEqual([2, expect.stringMatching(/creates a fresh queue file.*exists/)]);

    const other = join(makeTempDir(), "other.db");
    expect((await queue(["demo", "--tour", "--yes", "--tasks", "50", "--db", other])).stderr).toMatch(/belong to the plain demo/);
    expect((await queue(["demo", "--yes", "--db", other])).stderr).toMatch(/--yes goes with --tour/);
    expect(existsSync(other)).toBe(false);
  });

  it("--help shows the tour's examples", async () => {
    const help = await queue(["demo", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("queue demo --tour --yes");
    expect(help.stdout).toMatch(/--tour\s+walk through every pattern/);
  });
});

describe("queue demo --tour in a terminal", () => {
  beforeAll(() => {
    const probe = spawnSync("script", ["--version"], { encoding: "utf8" });
    if (probe.status !== 0 || !/util-linux/.test(probe.stdout)) {
      throw new Error("These tests drive the tour in a pseudo-terminal with util-linux's `script` command, which is not installed here.");
    }
  });

  it("waits for Enter before each step and runs all seven when Enter is pressed each time", async () => {
    const db = tempDbPath("tour.db");
    const session = inTerminal(["demo", "--tour", "--db", db]);
    for (let step = 2; step <= 7; step++) {
      const prompt = new RegExp(`Enter: step ${step} of 7 \\(${STEPS[step - 1]}\\)`);
      await session.waitFor(prompt);
      // At the prompt, the tour waits: the next step has not begun.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(headings(session.output())).toEqual(Array.from({ length: step - 1 }, (_, index) => index + 1));
      session.type("");
    }
    await session.waitFor(/That was every pattern\./);
    expect(await session.exited).toBe(0);
    expect(headings(session.output())).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(session.output()).toContain("Press Enter to go on after each step");
  });

  it("stops where the user types q, leaving the file for a look", async () => {
    const db = tempDbPath("tour.db");
    const session = inTerminal(["demo", "--tour", "--db", db]);
    await session.waitFor(/Enter: step 2 of 7/);
    session.type("");
    await session.waitFor(/Enter: step 3 of 7/);
    session.type("q");
    expect(await session.exited).toBe(0);
    expect(headings(session.output())).toEqual([1, 2]);
    expect(session.output()).toMatch(/Stopped after step 2 of 7\. The file stays at/);
    expect(existsSync(db)).toBe(true);
  });
});
