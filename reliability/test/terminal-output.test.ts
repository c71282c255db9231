// A task's data (type, payload, result, error, log lines and details) are written
// by whoever enqueues or handles tasks; the operator reads them in a terminal. Nothing a terminal
// acts on may come through raw: C0 controls, DEL, C1 controls (8-bit CSI), bidirectional controls.
import { QueueClient } from "@queue/client";
import { openQueueDatabase } from "@queue/core";
import { removeTempDirs, tempDbPath } from "@queue/test-support";
import { PermanentError, Worker } from "@queue/worker-engine";
import { afterEach, describe, expect, it } from "vitest";
import { cli } from "../src/cli-in-process.js";

afterEach(removeTempDirs);

/** Every character a terminal may act on (newline and tab aside, which the layout uses). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is what it is for
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;
const HOSTILE = "x\u001b[2J\u009b31m\u007f\u0085\u202e\u0007\r";

async function hostileDatabase(): Promise<string> {
  const path = tempDbPath();
  const db = openQueueDatabase({ path });
  const client = new QueueClient({ db });
  await client.enqueue("hostile", { text: HOSTILE, [`key${HOSTILE}`]: [HOSTILE] });
  await client.enqueue("done", { text: HOSTILE });
  const worker = new Worker({
    db,
    handlers: {
      hostile: async (_payload, ctx) => {
        await ctx.log("warn", `log${HOSTILE}`, { detail: HOSTILE });
        throw new PermanentError(`boom${HOSTILE}`);
      },
      done: async () => ({ result: HOSTILE }),
    },
  });
  await worker.runUntilEmpty();
  db.close();
  return path;
}

describe("what the queue command prints never drives the terminal", () => {
  it("list, show, logs, stats and workers escape task data, in text and in JSON", async () => {
    const db = await hostileDatabase();
    const commands = [["list"], ["list", "--status", "dead_letter"], ["show", "1"], ["show", "2"], ["logs", "1"], ["stats"], ["workers"]];
    for (const command of commands) {
      for (const json of [[], ["--json"]]) {
        const result = await cli([...command, ...json, "--db", db]);
        expect(result.code, `${command.join(" ")} ${json.join(" ")}: ${result.stderr}`).toBe(0);
        expect(result.stdout, `${command.join(" ")} ${json.join(" ")}`).not.toMatch(RAW_CONTROL);
        expect(result.stderr).not.toMatch(RAW_CONTROL);
      }
    }
    const shown = await cli(["show", "1", "--db", db]);
    // The data is still there to read, escaped: payload, error and log line with its details.
    expect(shown.stdout).toContain("\\u009b31m");
    expect(shown.stdout).toMatch(/payload: .*\\u007f/);
    expect(shown.stdout).toMatch(/boom.*\\u001b\[2J/);
    expect(shown.stdout).toMatch(/log.*\\u0085.*detail/);
    expect((await cli(["show", "2", "--db", db])).stdout).toMatch(/result: .*\\u202e/);
    // JSON stays the same value.
    expect(JSON.parse((await cli(["show", "1", "--db", db, "--json"])).stdout).task.payload.text).toBe(HOSTILE);
  });

  it("an error message that quotes its input escapes it too", async () => {
    const db = await hostileDatabase();
    const result = await cli(["list", "--status", `bad${HOSTILE}`, "--db", db]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--status must be one of/);
    expect(result.stderr).not.toMatch(RAW_CONTROL);
  });
});
