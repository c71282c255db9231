import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { commands } from "../src/model-commands.js";
import { runModel } from "../src/model-runner.js";
import { POSTGRES_TEST_URL } from "../src/postgres-server.js";

/** Each backend runs the same sequences; PostgreSQL gets a fresh schema per run. */
const BACKENDS = [
  { name: "SQLite", postgres: undefined },
  { name: "PostgreSQL", postgres: POSTGRES_TEST_URL },
] as const;

describe.each(BACKENDS)("the engine on $name against a model of the task state machine", ({ name, postgres }) => {
  it("agrees with the model, step by step, over random sequences of producer, worker, operator and clock commands", async () => {
    let steps = 0;
    let claimed = 0;
    const finals: Record<string, number> = {};
    await fc.assert(
      // Half the runs keep a worker's stale leases beside its new ones, as a low-level caller may.
      fc.asyncProperty(commands(60), fc.constantFrom("drop" as const, "keep" as const), async (sequence, staleLeases) => {
        const report = await runModel(sequence, { staleLeases, postgres });
        steps += report.steps;
        claimed += report.claimed;
        for (const [status, count] of Object.entries(report.finalCounts)) finals[status] = (finals[status] ?? 0) + count;
      }),
      {
        numRuns: Number(process.env.MODEL_RUNS ?? 200),
        seed: process.env.MODEL_SEED === undefined ? undefined : Number(process.env.MODEL_SEED),
      },
    );
    console.log(`model runs on ${name}: ${steps} steps, ${claimed} claims, tasks at the end by status: ${JSON.stringify(finals)}`);
    // The runs exercised the engine (claims, and tasks reaching every status), not only empty queues.
    expect(claimed).toBeGreaterThan(steps / 30);
    for (const status of ["queued", "leased", "completed", "dead_letter", "cancelled"]) expect(finals[status]).toBeGreaterThan(0);
  }, 300_000);
});
