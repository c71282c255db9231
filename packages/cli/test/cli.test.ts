import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { makeTempDir, removeTempDirs, runTypeScript, spawnTypeScript, tempDbPath } from "@queue/test-support";
import { afterEach, describe, expect, it } from "vitest";

afterEach(removeTempDirs);

const BIN = fileURLToPath(new URL("../src/bin.ts", import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/** Runs the real `queue` binary; `NO_COLOR` keeps the output plain. */
async function queue(args: string[], options: { input?: string } = {}) {
  const result = await runTypeScript(BIN, args, { env: { NO_COLOR: "1", QUEUE_DB_PATH: undefined }, ...options });
  return { code: result.code, stdout: result.stdout, stderr: result.stderr, json: () => JSON.parse(result.stdout) };
}

describe("queue (the binary)", () => {
  it("creates a database, enqueues, shows and lists tasks, with stable JSON shapes", async () => {
    const db = tempDbPath();
    const init = await queue(["init", "--db", db, "--json"]);
    expect(init.code).toBe(0);
    expect(init.json()).toEqual({ path: db, schemaVersion: expect.any(Number) });
    const added = await queue(["enqueue", "double", '{"n":21}', "--db", db, "--priority", "3", "--max-attempts", "2", "--json"]);
    expect(added.code).toBe(0);
    expect(added.json()).toMatchObject({
      created: true,
      task: { id: 1, type: "double", payload: { n: 21 }, priority: 3, maxAttempts: 2, status: "queued" },
    });
    const again = await queue(["enqueue", "double", "{}", "--idempotency-key", "k", "--db", db]);
    expect(again.stdout).toMatch(/Enqueued task 2/);
    expect((await queue(["enqueue", "double", "{}", "--idempotency-key", "k", "--db", db])).stdout).toMatch(/already exists/);
    const shown = await queue(["show", "1", "--db", db, "--json"]);
    expect(shown.json()).toMatchObject({ task: { id: 1 }, logs: [] });
    const listed = await queue(["list", "--db", db, "--limit", "1", "--json"]);
    expect(listed.json()).toMatchObject({ tasks: [{ id: 2 }], nextCursor: "2" });
    expect((await queue(["list", "--db", db, "--limit", "1"])).stdout).toMatch(/more: --cursor 2/);
    expect((await queue(["list", "--db", db])).stdout).toMatch(/^\s+2\s+queued\s+double/m);
  });

  it("enqueues 10,000 tasks from NDJSON, works them with 3 processes until empty, and stats show all completed", async () => {
    const db = tempDbPath();
    await queue(["init", "--db", db]);
    const input = `${Array.from({ length: 10_000 }, (_, n) => JSON.stringify({ n })).join("\n")}\n`;
    const enqueued = await queue(["enqueue", "double", "--ndjson", "--db", db, "--json"], { input });
    expect(enqueued.code).toBe(0);
    expect(enqueued.json().count).toBe(10_000);
    const worked = await queue([
      "work",
      "--handlers",
      fixture("handlers.mjs"),
      "--db",
      db,
      "--processes",
      "3",
      "--concurrency",
      "16",
      "--until-empty",
      "--json",
    ]);
    expect(worked.code).toBe(0);
    const reports = worked.stdout
      .trim()
      .split(/\n(?=\{)/)
      .map((text) => JSON.parse(text) as { completed: number });
    expect(reports).toHaveLength(3);
    expect(reports.reduce((sum, report) => sum + report.completed, 0)).toBe(10_000);
    const stats = await queue(["stats", "--db", db, "--json"]);
    expect(stats.json().depth).toEqual({ queued: 0, leased: 0, completed: 10_000, dead_letter: 0, cancelled: 0 });
    expect(stats.json().health.status).toBe("ok");
    expect((await queue(["logs", "501", "--db", db, "--json"])).json()).toEqual([
      expect.objectContaining({ message: "a round number", details: { n: 500 } }),
    ]);
  });

  it("retries dead letters, cancels, pauses and resumes", async () => {
    const db = tempDbPath();
    await queue(["init", "--db", db]);
    await queue(["enqueue", "flaky", "null", "--max-attempts", "1", "--db", db]);
    await queue(["work", "--handlers", fixture("handlers.mjs"), "--db", db, "--until-empty"]);
    expect((await queue(["list", "--status", "dead_letter", "--db", db, "--json"])).json().tasks).toHaveLength(1);
    expect((await queue(["retry", "--dead-letter", "--db", db, "--json"])).json()).toEqual({ retried: 1 });
    expect((await queue(["cancel", "1", "--db", db, "--json"])).json()).toMatchObject({ id: 1, status: "cancelled" });
    expect((await queue(["pause", "double", "--db", db, "--json"])).json()).toEqual({ paused: ["double"], changed: true });
    expect((await queue(["resume", "double", "--db", db, "--json"])).json()).toEqual({ paused: [], changed: true });
    expect((await queue(["resume", "double", "--db", db])).stdout).toMatch(/Nothing changed: double was not paused/);
    // A bare resume lifts every pause: the whole queue's and single types'.
    await queue(["pause", "--db", db]);
    await queue(["pause", "double", "--db", db]);
    expect((await queue(["resume", "--db", db, "--json"])).json()).toEqual({ paused: [], changed: true });
  });

  it("refuses retry and enqueue flags that do not go together, and names a missing task in logs", async () => {
    const db = tempDbPath();
    await queue(["init", "--db", db]);
    for (const args of [
      ["retry", "5", "--dead-letter"],
      ["retry", "5", "--type", "t"],
      ["enqueue", "t", "--ndjson", "--idempotency-key", "k"],
      ["enqueue", "t", "{}", "--batch", "10"],
      ["stats", "--watch", "0"],
      ["stats", "--window", "0"],
    ]) {
      const result = await queue([...args, "--db", db]);
      expect([args.join(" "), result.code]).toEqual([args.join(" "), 2]);
    }
    const demo = await queue(["demo", "--db", db]);
    expect([demo.code, demo.stderr]).toEqual([2, expect.stringMatching(/creates a fresh queue file.*exists/)]);
    const logs = await queue(["logs", "99", "--db", db]);
    expect(logs.code).toBe(1);
    expect(logs.stderr).toMatch(/No task with id 99/);
  });

  it("enqueue speaks of flags, refuses a payload beside --ndjson and an empty --db, and skips a byte order mark", async () => {
    const db = tempDbPath();
    await queue(["init", "--db", db]);
    const both = await queue(["enqueue", "t", "null", "--delay", "1m", "--run-at", "2030-01-01T00:00:00Z", "--db", db]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/Give either --run-at or --delay, not both/);
    expect(both.stderr).not.toMatch(/delayMs|runAt/);
    const payloadAndLines = await queue(["enqueue", "t", '{"n":1}', "--ndjson", "--db", db], { input: '{"n":2}\n' });
    expect(payloadAndLines.code).toBe(2);
    expect(payloadAndLines.stderr).toMatch(/--ndjson reads the payloads from stdin.*drop the payload argument/);
    const emptyDb = await queue(["stats", "--db", ""]);
    expect(emptyDb.code).toBe(2);
    expect(emptyDb.stderr).toMatch(/--db needs a path; it was given an empty one/);
    const bom = await queue(["enqueue", "t", "--ndjson", "--db", db, "--json"], { input: '\uFEFF{"n":1}\n{"n":2}\n' });
    expect(bom.code).toBe(0);
    expect(bom.json()).toMatchObject({ count: 2 });
    expect((await queue(["stats", "--db", db, "--json"])).json()).toMatchObject({ depth: { queued: 2 } });
  });

  it("an NDJSON enqueue that fails midway says which lines were committed", async () => {
    const db = tempDbPath();
    await queue(["init", "--db", db]);
    const result = await queue(["enqueue", "t", "--ndjson", "--batch", "1", "--db", db], { input: '{"n":1}\n{"n":2}\nbad\n{"n":4}\n' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /Line 3 is not valid JSON.*2 task\(s\) from lines 1 to 2 were committed \(ids 1 to 2\); resume after line 2/s,
    );
    expect((await queue(["stats", "--db", db, "--json"])).json()).toMatchObject({ depth: { queued: 2 } });
  });

  it("validates, cleans up, checkpoints, checks integrity, backs up and restores", async () => {
    const db = tempDbPath();
    await queue(["init", "--db", db]);
    await queue(["enqueue", "double", '{"n":1}', "--db", db]);
    const validate = await queue(["validate", "--db", db]);
    expect(validate.code).toBe(0);
    expect(validate.stdout).toContain("0 failed");
    expect((await queue(["cleanup", "--completed-older-than", "1d", "--dry-run", "--db", db, "--json"])).json()).toMatchObject({
      completed: 0,
      dryRun: true,
    });
    expect((await queue(["checkpoint", "--db", db, "--json"])).json()).toMatchObject({ mode: "TRUNCATE", busy: false });
    expect((await queue(["integrity", "--db", db, "--json"])).json()).toMatchObject({ ok: true, problems: [] });
    const copy = join(makeTempDir(), "backup.db");
    expect((await queue(["backup", copy, "--db", db, "--json"])).json()).toMatchObject({ file: copy });
    await queue(["enqueue", "double", '{"n":2}', "--db", db]);
    expect((await queue(["restore", copy, "--db", db, "--json"])).json()).toEqual({ tasks: 1 });
    expect((await queue(["list", "--db", db, "--json"])).json().tasks).toHaveLength(1);
  });

  it.each([
    [["frobnicate"], 2, /unknown command 'frobnicate'/],
    [["enqueue", "t", "{oops", "--db", "DB"], 2, /payload is not valid JSON[\s\S]*hint:/],
    [["enqueue", "t", "{}", "--priority", "high", "--db", "DB"], 2, /--priority expects a whole number/],
    [["enqueue", "t", "{}", "--delay", "soon", "--db", "DB"], 2, /--delay expects a duration/],
    [["list", "--status", "sleeping", "--db", "DB"], 2, /--status must be one of/],
    [["work", "--handlers", "./no/such/module.mjs", "--db", "DB"], 2, /does not exist/],
    [["work", "--handlers", "NO_DEFAULT", "--db", "DB"], 2, /no default export/],
    [["work", "--db", "DB"], 2, /required option '--handlers <module>'/],
    [["stats", "--db", "MISSING"], 1, /No queue database at .*missing\.db[\s\S]*queue init/],
    [["show", "99", "--db", "DB"], 1, /No task with id 99/],
  ])("%j exits %i with a one-line error and no stack trace", async (args, code, message) => {
    const db = tempDbPath();
    await queue(["init", "--db", db]);
    const missing = join(makeTempDir(), "missing.db");
    const resolved = args.map((arg) =>
      arg === "DB" ? db : arg === "MISSING" ? missing : arg === "NO_DEFAULT" ? fixture("no-default.mjs") : arg,
    );
    const result = await queue(resolved);
    expect(result.code).toBe(code);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(missing)).toBe(false);
  });

  it("prints help with examples, a version, and stack traces only with --verbose", async () => {
    const help = await queue(["enqueue", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Examples:");
    expect((await queue(["--version"])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const verbose = await queue(["stats", "--db", join(makeTempDir(), "none.db"), "--verbose"]);
    expect(verbose.code).toBe(1);
    expect(verbose.stderr).toMatch(/\n\s+at /);
  });
});

describe("queue demo", () => {
  it("runs a mixed workload through worker processes and ends with everything final and a passing validator", async () => {
    const db = tempDbPath();
    const result = await queue(["demo", "--tasks", "200", "--processes", "2", "--db", db, "--json"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const summary = result.json();
    expect(summary).toMatchObject({ path: db, tasks: 201, validation: "pass" }); // 200 + one welcome email sent twice under one key
    expect(summary.depth).toMatchObject({ queued: 0, leased: 0, completed: 191, dead_letter: 10 });
    expect(summary.retried).toBe(30);
  });
});

describe("long-running commands and terminal behaviour", () => {
  const spawnQueue = (args: string[]) => spawnTypeScript(BIN, args, { env: { NO_COLOR: "1" } });
  const waitForOutput = (child: ReturnType<typeof spawnQueue>["child"], pattern: RegExp, stream: "stdout" | "stderr" = "stdout") =>
    new Promise<void>((resolve) => {
      let seen = "";
      child[stream]?.on("data", (chunk: Buffer) => {
        seen += chunk.toString();
        if (pattern.test(seen)) resolve();
      });
    });

  it("`work` registers while running, shows in `workers`, and stops gracefully on SIGTERM", async () => {
    const db = tempDbPath();
    await queue(["init", "--db", db]);
    const worker = spawnQueue(["work", "--handlers", fixture("handlers.mjs"), "--worker-id", "cli-worker", "--db", db]);
    await waitForOutput(worker.child, /worker cli-worker on/, "stderr");
    const workers = await queue(["workers", "--db", db, "--json"]);
    expect(workers.json()).toEqual([expect.objectContaining({ id: "cli-worker", stale: false, leased: 0 })]);
    worker.child.kill("SIGTERM");
    const result = await worker.done;
    expect(result.code).toBe(0);
    expect((await queue(["workers", "--db", db])).stdout).toContain("No workers registered.");
  });

  it("`demo` stopped with SIGTERM stops its worker processes too", async () => {
    const db = join(makeTempDir(), "demo.db");
    const demo = spawnQueue(["demo", "--tasks", "20000", "--processes", "2", "--db", db]);
    await waitForOutput(demo.child, /Starting 2 worker processes/, "stdout");
    const registered = async () => (await queue(["workers", "--db", db, "--json"])).json() as unknown[];
    for (let tries = 0; (await registered()).length < 2 && tries < 100; tries++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await registered()).toHaveLength(2);
    demo.child.kill("SIGTERM");
    expect((await demo.done).code).toBe(143);
    // The workers stopped gracefully: they deregistered themselves.
    expect(await registered()).toEqual([]);
  });

  it("`stats --watch` refreshes until interrupted", async () => {
    const db = tempDbPath();
    await queue(["init", "--db", db]);
    const watch = spawnQueue(["stats", "--watch", "100ms", "--db", db]);
    let refreshes = 0;
    await new Promise<void>((resolve) => {
      watch.child.stdout?.on("data", (chunk: Buffer) => {
        refreshes += chunk.toString().split("Tasks:").length - 1;
        if (refreshes >= 3) resolve();
      });
    });
    watch.child.kill("SIGINT");
    expect((await watch.done).code).toBe(0);
  });

  it("`vacuum` rebuilds the file, and piped output carries no colour codes", async () => {
    const db = tempDbPath();
    await queue(["init", "--db", db]);
    const vacuumed = await queue(["vacuum", "--db", db, "--json"]);
    expect(vacuumed.code).toBe(0);
    expect(vacuumed.json()).toMatchObject({ before: { autoVacuum: "incremental" }, after: { autoVacuum: "incremental" } });
    const piped = await runTypeScript(BIN, ["stats", "--db", db], { env: { NO_COLOR: undefined, FORCE_COLOR: undefined } });
    expect(piped.stdout).not.toContain("\u001b[");
    const failure = await runTypeScript(BIN, ["frobnicate"], { env: { NO_COLOR: undefined, FORCE_COLOR: undefined } });
    expect(failure.stderr).not.toContain("\u001b[");
  });
});

describe("help and enqueue options", () => {
  it("every command's --help shows examples", async () => {
    const commands = ["init", "enqueue", "work", "stats", "list", "show", "logs", "workers", "cancel", "retry", "pause", "resume"];
    commands.push("validate", "cleanup", "checkpoint", "vacuum", "integrity", "backup", "restore", "demo", "migrate", "rollback", "export");
    commands.push("migrate-backend");
    const missing: string[] = [];
    for (const command of commands) {
      const help = await queue([command, "--help"]);
      if (help.code !== 0 || !help.stdout.includes("Examples:")) missing.push(command);
    }
    expect(missing).toEqual([]);
  });

  it("enqueues NDJSON from --file, and honours --run-at and --delay", async () => {
    const db = tempDbPath();
    await queue(["init", "--db", db]);
    const file = join(makeTempDir(), "tasks.ndjson");
    writeFileSync(file, '{"n":1}\n\n{"n":2}\n');
    expect((await queue(["enqueue", "double", "--ndjson", "--file", file, "--db", db, "--json"])).json()).toMatchObject({ count: 2 });
    const at = "2031-02-03T04:05:06.000Z";
    expect((await queue(["enqueue", "double", "{}", "--run-at", at, "--db", db, "--json"])).json().task.runAfter).toBe(at);
    const delayed = (await queue(["enqueue", "double", "{}", "--delay", "1h", "--db", db, "--json"])).json().task;
    expect(new Date(delayed.runAfter).getTime() - new Date(delayed.createdAt).getTime()).toBeGreaterThanOrEqual(3_599_000);
    expect((await queue(["enqueue", "double", "{}", "--run-at", "tomorrow", "--db", db])).code).toBe(2);
    expect((await queue(["enqueue", "double", "--file", file, "--db", db])).stderr).toMatch(/add --ndjson/);
  });
});

describe("migrate, rollback and export", () => {
  it("moves in-flight runs from a registry history into the queue, exports them, and rolls back", async () => {
    const db = tempDbPath();
    await queue(["init", "--db", db]);
    const directory = makeTempDir();
    const registry = join(directory, "runs.json");
    const at = "2030-01-01T00:00:00.000Z";
    writeFileSync(
      registry,
      JSON.stringify({
        version: 1,
        runs: [
          { id: "r1", moduleId: "job", parameters: {}, status: "running", createdAt: at },
          { id: "r2", moduleId: "job", parameters: {}, status: "completed", createdAt: at },
        ],
      }),
    );
    expect((await queue(["migrate", "--registry", registry, "--dry-run", "--db", db, "--json"])).json()).toMatchObject({
      dryRun: true,
      migrated: ["r1"],
      finished: 1,
    });
    expect((await queue(["migrate", "--registry", registry, "--db", db, "--json"])).json()).toMatchObject({ migrated: ["r1"] });
    expect((await queue(["migrate", "--registry", registry, "--db", db, "--json"])).json()).toMatchObject({
      migrated: [],
      alreadyInQueue: ["r1"],
    });
    const exported = await queue(["export", "--db", db]);
    expect(
      exported.stdout
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line).runId),
    ).toEqual(["r1"]);
    const config = join(directory, "app.yaml");
    writeFileSync(config, "task_execution:\n  backend: queue\n");
    const rolled = await queue(["rollback", "--registry", registry, "--config", config, "--db", db, "--json"]);
    expect(rolled.json()).toMatchObject({ needsRerun: ["r1"], stillRunning: [] });
    expect(readFileSync(config, "utf8")).toContain("backend: in-memory");
    expect((await queue(["export", "--db", db, "--json"])).json()).toMatchObject({ count: 0 });
  });
});
