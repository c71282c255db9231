// Hostile producer input: every payload, type name, idempotency key, priority, delay and run-after
// time is either stored and returned exactly (by the client and to a worker's handler) or refused
// with a typed QueueError before anything is written; workers never crash on what they read;
// Object.prototype is never touched; the file stays intact.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type EnqueueOptions, QueueClient } from "@queue/client";
import { isQueueError, openQueueDatabase, type QueueDatabase, QueueError, TestClock } from "@queue/core";
import { Worker } from "@queue/worker-engine";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  finiteNumber,
  hostileJson,
  hostileString,
  jsonDifference,
  jsonNormal,
  nestedArrays,
  prototypeIsPolluted,
  prototypeSnapshot,
  UNSTORABLE_VALUES,
} from "../src/hostile-values.js";

const prototypeBefore = prototypeSnapshot();
let dir: string;
let clock: TestClock;
let db: QueueDatabase;
let client: QueueClient;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "queue-hostile-"));
  clock = new TestClock();
  db = openQueueDatabase({ path: join(dir, "queue.db"), clock });
  client = new QueueClient({ db });
});

afterAll(async () => {
  await client.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Resolves with the outcome of `work`: the value, or the error it threw (never rethrown). */
async function settle<T>(work: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    return { ok: false, error };
  }
}

/** `actual` is the JSON value `expected` (-0 read back as 0), compared key by key. */
function expectSameJson(actual: unknown, expected: unknown): void {
  expect(jsonDifference(actual, expected)).toBeUndefined();
}

function expectTypedRefusal(error: unknown, ...codes: string[]): void {
  expect(error).toBeInstanceOf(QueueError);
  expect(codes).toContain((error as QueueError).code);
}

const anyValue = fc.oneof(
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -1, 0, -0, 1.5, 2 ** 31, 2 ** 53, 1e300, -1e300, "1", null, true, [], {}),
  finiteNumber,
  hostileString,
);

describe("hostile input to enqueue", () => {
  it("a payload is stored and returned exactly, whatever strings, keys and numbers it holds", async () => {
    await fc.assert(
      fc.asyncProperty(hostileJson, async (payload) => {
        const { task } = await client.enqueue("fuzz-payload", payload);
        const stored = await client.get(task.id);
        expectSameJson(stored?.payload, payload);
        expectSameJson(task.payload, payload);
      }),
      { numRuns: 300 },
    );
  });

  it.each(UNSTORABLE_VALUES)("a payload holding %s is refused with INVALID_PAYLOAD and nothing is written", async (_, payload) => {
    const before = await client.counts();
    const outcome = await settle(() => client.enqueue("fuzz-payload", payload));
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expectTypedRefusal(outcome.error, "INVALID_PAYLOAD");
    expect(await client.counts()).toEqual(before);
  });

  it("a cyclic payload, a payload over the size limit and a throwing toJSON are refused with INVALID_PAYLOAD", async () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const huge = { text: "x".repeat(1024 * 1024) };
    const throwing = {
      toJSON() {
        throw new Error("no");
      },
    };
    for (const payload of [cyclic, huge, throwing]) {
      const outcome = await settle(() => client.enqueue("fuzz-payload", payload));
      expect(outcome.ok).toBe(false);
      if (!outcome.ok) expectTypedRefusal(outcome.error, "INVALID_PAYLOAD");
    }
  });

  it("a payload just under the size limit and one nested 100 deep are stored exactly; deeper nesting is stored exactly or refused with INVALID_PAYLOAD", async () => {
    const limit = 1024 * 1024;
    const almost = "y".repeat(limit - 2); // the JSON adds two quotes
    expect((await client.get((await client.enqueue("fuzz-payload", almost)).task.id))?.payload).toBe(almost);
    const deep = nestedArrays(100);
    expectSameJson((await client.get((await client.enqueue("fuzz-payload", deep)).task.id))?.payload, deep);
    for (const depth of [3_000, 200_000]) {
      const deeper = nestedArrays(depth);
      const outcome = await settle(async () => (await client.get((await client.enqueue("fuzz-payload", deeper)).task.id))?.payload);
      if (outcome.ok) expect(JSON.stringify(outcome.value)).toBe(JSON.stringify(deeper));
      else expectTypedRefusal(outcome.error, "INVALID_PAYLOAD");
    }
  });

  it("type names, idempotency keys, priorities, delays and run-after times are stored exactly or refused with INVALID_ARGUMENT", async () => {
    // Mostly valid values (so that whole enqueues get through), with hostile ones mixed in.
    const mostly = <T>(valid: fc.Arbitrary<T>) => fc.oneof({ weight: 4, arbitrary: valid }, { weight: 1, arbitrary: anyValue });
    const options = fc.record(
      {
        idempotencyKey: mostly(hostileString),
        priority: mostly(fc.integer({ min: -(2 ** 31 - 1), max: 2 ** 31 - 1 })),
        delayMs: mostly(fc.oneof(fc.nat({ max: 10_000 }), fc.constant(Number.MAX_SAFE_INTEGER))),
        runAt: mostly(fc.oneof(fc.date({ noInvalidDate: false }), finiteNumber)),
        maxAttempts: mostly(fc.integer({ min: 1, max: 1_000 })),
        timeoutMs: mostly(fc.integer({ min: 1, max: 2 ** 31 - 1 })),
        requires: mostly(fc.array(hostileString, { maxLength: 3 })),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(mostly(hostileString), options, async (type, enqueueOptions) => {
        const now = clock.now();
        const before = await client.counts();
        const outcome = await settle(() => client.enqueue(type as string, null, enqueueOptions as EnqueueOptions));
        if (!outcome.ok) {
          expectTypedRefusal(outcome.error, "INVALID_ARGUMENT");
          expect(await client.counts()).toEqual(before);
          return;
        }
        const { task, created } = outcome.value;
        const stored = await client.get(task.id);
        // What was given comes back: from the enqueue result and from the file.
        for (const seen of [task, stored]) {
          // An existing task (its key was used before) comes back as it was stored then.
          expect(seen?.idempotencyKey ?? null).toBe(enqueueOptions.idempotencyKey ?? null);
          if (!created) continue;
          expect(seen?.type).toBe(type);
          expect(jsonNormal(seen?.priority)).toBe(jsonNormal(enqueueOptions.priority ?? 0));
          expect(seen?.maxAttempts).toBe(enqueueOptions.maxAttempts ?? 3);
          expect(seen?.timeoutMs).toBe(enqueueOptions.timeoutMs ?? null);
          const runAt = enqueueOptions.runAt instanceof Date ? enqueueOptions.runAt.getTime() : enqueueOptions.runAt;
          const expectedRunAfter =
            enqueueOptions.delayMs !== undefined
              ? now + (enqueueOptions.delayMs as number)
              : runAt !== undefined
                ? Math.round(runAt as number)
                : now;
          expect(seen?.runAfter.getTime()).toBe(jsonNormal(expectedRunAfter));
          const requires = Array.isArray(enqueueOptions.requires) ? [...new Set(enqueueOptions.requires)].sort() : [];
          expect(seen?.requiredCapabilities).toEqual(requires);
        }
        if (typeof enqueueOptions.idempotencyKey === "string") {
          // The same key again yields the same task.
          const again = await client.enqueue(type as string, { other: true }, { idempotencyKey: enqueueOptions.idempotencyKey as string });
          expect([again.created, again.task.id]).toEqual([false, task.id]);
        }
      }),
      { numRuns: 400 },
    );
  });

  it("a lone surrogate in a type name or an idempotency key is refused, so two such keys can never be confused", async () => {
    for (const [type, key] of [
      ["t\uD800", "k"],
      ["t", "k\uD800"],
      ["t", "k\uDC00"],
    ] as const) {
      const outcome = await settle(() => client.enqueue(type, null, { idempotencyKey: key }));
      expect(outcome.ok).toBe(false);
      if (!outcome.ok) expectTypedRefusal(outcome.error, "INVALID_ARGUMENT");
    }
    // A well-formed pair is fine and comes back exactly.
    const { task } = await client.enqueue("t\uD83D\uDE00", null, { idempotencyKey: "k\uD83D\uDE00" });
    expect(await client.get(task.id)).toMatchObject({ type: "t\uD83D\uDE00", idempotencyKey: "k\uD83D\uDE00" });
  });

  it("a batch with one hostile item is refused as a whole with a typed error naming the item, and writes nothing", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(hostileJson, { maxLength: 5 }), fc.nat(), anyValue, async (payloads, at, badPriority) => {
        const items = payloads.map((payload) => ({ type: "fuzz-batch", payload }));
        const index = at % (items.length + 1);
        items.splice(index, 0, { type: "fuzz-batch", payload: null, options: { priority: badPriority } } as never);
        const before = await client.counts();
        const outcome = await settle(() => client.enqueueMany(items));
        if (outcome.ok) {
          expectSameJson(
            outcome.value.map((result) => result.task.payload),
            items.map((item) => item.payload),
          );
          return;
        }
        expectTypedRefusal(outcome.error, "INVALID_ARGUMENT");
        expect((outcome.error as Error).message).toContain(`Item ${index}:`);
        expect(await client.counts()).toEqual(before);
      }),
      { numRuns: 150 },
    );
  });
});

describe("hostile tasks reaching a worker", () => {
  it("a handler receives exactly the payload that was enqueued, under any accepted type name, and the worker never fails", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({ type: fc.oneof(hostileString, fc.constantFrom("__proto__", "constructor", "toString")), payload: hostileJson }),
          {
            minLength: 1,
            maxLength: 6,
          },
        ),
        async (tasks) => {
          const accepted: { id: number; payload: unknown }[] = [];
          for (const { type, payload } of tasks) {
            const outcome = await settle(() => client.enqueue(type, payload));
            if (outcome.ok) accepted.push({ id: outcome.value.task.id, payload });
            else expectTypedRefusal(outcome.error, "INVALID_ARGUMENT");
          }
          const seen = new Map<number, unknown>();
          const types = [...new Set(tasks.map((task) => task.type))];
          const handler = (payload: unknown, ctx: { task: { id: number } }) => {
            seen.set(ctx.task.id, payload);
            return payload;
          };
          // Own properties, even for "__proto__" and "constructor".
          const handlers = Object.fromEntries(types.map((type) => [type, handler]));
          const worker = new Worker({ db, handlers, pollIntervalMs: 5, workerId: "fuzz-worker" });
          const errors: unknown[] = [];
          worker.on("error", (error) => errors.push(error));
          await worker.runUntilEmpty();
          expect(errors).toEqual([]);
          for (const { id, payload } of accepted) {
            expectSameJson(seen.get(id), payload);
            const task = await client.get(id);
            expect(task?.status).toBe("completed");
            expectSameJson(task?.result, payload);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it("a payload that looks like code or a prototype attack stays data, in the file and in the handler", async () => {
    const payloads = [
      '"); process.exit(1); //',
      JSON.parse('{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}}'),
      { toString: "x", valueOf: "y", toJSON: "not a function here" },
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a template injection attempt, on purpose
      "${process.exit(1)}",
      "'; DROP TABLE tasks; --",
    ];
    const seen: unknown[] = [];
    const ids: number[] = [];
    for (const payload of payloads) ids.push((await client.enqueue("fuzz-code", payload)).task.id);
    const worker = new Worker({ db, handlers: { "fuzz-code": (payload: unknown) => void seen.push(payload) }, pollIntervalMs: 5 });
    await worker.runUntilEmpty();
    expect(seen).toHaveLength(payloads.length);
    for (const [index, id] of ids.entries()) {
      expectSameJson((await client.get(id))?.payload, payloads[index]);
      expect(seen.some((payload) => jsonDifference(payload, payloads[index]) === undefined)).toBe(true);
    }
    const injected = seen.find((payload) => typeof payload === "object" && payload !== null && "__proto__" in payload) as object;
    expect(Object.getPrototypeOf(injected)).toBe(Object.prototype);
    expect(Object.hasOwn(injected, "__proto__")).toBe(true);
    expect(prototypeIsPolluted()).toBe(false);
  });

  // A worker claiming every type must not find handlers among Object.prototype's members: a task of
  // type "constructor" once ran `Object` and completed with its payload as the result.
  it("a task whose type names an Object.prototype member is dead-lettered as an unknown type, not run", async () => {
    const types = ["constructor", "toString", "hasOwnProperty"];
    const ids: number[] = [];
    for (const type of types) ids.push((await client.enqueue(type, { a: 1 }, { maxAttempts: 1 })).task.id);
    const worker = new Worker({ db, handlers: { unrelated: () => null }, types: "all", pollIntervalMs: 5 });
    await worker.runUntilEmpty();
    const tasks = await Promise.all(ids.map((id) => client.get(id)));
    expect(tasks.map((task) => [task?.status, task?.error?.name])).toEqual(types.map(() => ["dead_letter", "UnknownTaskType"]));
  });
});

describe("after all hostile input", () => {
  it("Object.prototype is untouched and the database passes integrity_check", () => {
    expect(prototypeSnapshot()).toEqual(prototypeBefore);
    expect(prototypeIsPolluted()).toBe(false);
    expect(db.connection.pragma("integrity_check", { simple: true })).toBe("ok");
    expect(isQueueError(new QueueError("INVALID_ARGUMENT", "x"), "INVALID_ARGUMENT")).toBe(true);
  });
});
