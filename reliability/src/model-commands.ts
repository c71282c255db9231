// fast-check arbitraries for model commands: small pools of keys, types and workers so that
// collisions (same key, same task, two workers, expired leases) happen often in short runs.
import fc from "fast-check";
import { type Command, type EnqueueSpec, MODEL_LEASE_MS, MODEL_TYPES, MODEL_WORKERS } from "./model-queue.js";

const worker = fc.integer({ min: 0, max: MODEL_WORKERS - 1 });
const pick = fc.nat({ max: 50 });
const type = fc.constantFrom(...MODEL_TYPES);

export const enqueueSpec: fc.Arbitrary<EnqueueSpec> = fc.record({
  type,
  priority: fc.integer({ min: -2, max: 2 }),
  delayMs: fc.constantFrom(0, 0, 500, 3_000),
  maxAttempts: fc.integer({ min: 1, max: 3 }),
  key: fc.option(fc.constantFrom("k1", "k2", "k3", "k4"), { freq: 3 }),
});

export const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 5, arbitrary: enqueueSpec.map((spec): Command => ({ kind: "enqueue", ...spec })) },
  {
    weight: 2,
    arbitrary: fc
      .record({ items: fc.array(enqueueSpec, { maxLength: 4 }), poisonAt: fc.option(fc.nat({ max: 4 }), { freq: 4 }) })
      .map((batch): Command => ({ kind: "enqueueMany", ...batch })),
  },
  {
    weight: 6,
    arbitrary: fc
      .record({ worker, limit: fc.integer({ min: 1, max: 3 }), strategy: fc.constantFrom("fifo" as const, "priority" as const) })
      .map((claim): Command => ({ kind: "claim", ...claim })),
  },
  { weight: 4, arbitrary: fc.record({ worker, pick }).map((c): Command => ({ kind: "complete", ...c })) },
  {
    weight: 4,
    arbitrary: fc
      .record({ worker, pick, permanent: fc.boolean(), backoffMs: fc.constantFrom(0, 1_000, 4_000) })
      .map((c): Command => ({ kind: "fail", ...c })),
  },
  { weight: 1, arbitrary: fc.record({ worker, pick }).map((c): Command => ({ kind: "release", ...c })) },
  { weight: 2, arbitrary: worker.map((w): Command => ({ kind: "heartbeat", worker: w })) },
  { weight: 2, arbitrary: pick.map((p): Command => ({ kind: "cancel", pick: p })) },
  { weight: 2, arbitrary: pick.map((p): Command => ({ kind: "retry", pick: p })) },
  {
    weight: 4,
    arbitrary: fc
      .constantFrom(1, 1_000, 5_000, MODEL_LEASE_MS - 1, MODEL_LEASE_MS, 2 * MODEL_LEASE_MS)
      .map((ms): Command => ({ kind: "advance", ms })),
  },
  { weight: 1, arbitrary: worker.map((w): Command => ({ kind: "crash", worker: w })) },
  {
    weight: 2,
    arbitrary: fc
      .record({ pick, action: fc.constantFrom("complete" as const, "fail" as const, "heartbeat" as const) })
      .map((c): Command => ({ kind: "late", ...c })),
  },
  { weight: 1, arbitrary: fc.constant<Command>({ kind: "recover" }) },
  { weight: 1, arbitrary: fc.option(type, { freq: 4 }).map((t): Command => ({ kind: "pause", type: t })) },
  { weight: 3, arbitrary: fc.option(type, { freq: 2 }).map((t): Command => ({ kind: "resume", type: t })) },
);

export const commands = (maxLength: number): fc.Arbitrary<Command[]> => fc.array(command, { minLength: 1, maxLength, size: "max" });
