import { chmodSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { QueueClient } from "@queue/client";
import { isQueueError, openQueueDatabase, type QueueDatabase, TestClock } from "@queue/core";
import { cleanup } from "@queue/maintenance";
import { getStrategy } from "@queue/scheduling";
import { makeTempDir, removeTempDirs, runTypeScript, tempDbPath } from "@queue/test-support";
import { claim, Worker, type WorkerOptions } from "@queue/worker-engine";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";

const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  removeTempDirs();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** A promise handlers can wait on, opened from the test. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open: () => void = () => undefined;
  const wait = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { wait, open };
}

function items(count: number, from = 0, payloadBytes = 20) {
  return Array.from({ length: count }, (_, n) => ({ type: "work", payload: { n: from + n, pad: "p".repeat(payloadBytes) } }));
}

function open(path: string, options: Parameters<typeof openQueueDatabase>[0] = {}): QueueDatabase {
  const db = openQueueDatabase({ path, ...options });
  closers.push(() => db.close());
  return db;
}

function startWorker(options: WorkerOptions): { worker: Worker; errors: unknown[] } {
  const worker = new Worker(options);
  const errors: unknown[] = [];
  worker.on("error", (error) => errors.push(error));
  closers.push(() => worker.stop({ graceful: false }));
  return { worker, errors };
}

/** Caps the file at its current size, as a full disk would. */
function fillDisk(db: QueueDatabase): void {
  db.connection.pragma(`max_page_count = ${db.connection.pragma("page_count", { simple: true })}`);
}
function freeDisk(db: QueueDatabase): void {
  db.connection.pragma("max_page_count = 4294967294");
}

const integrity = (path: string) => {
  const db = new Database(path, { readonly: true });
  try {
    return db.pragma("integrity_check", { simple: true });
  } finally {
    db.close();
  }
};

describe("disk full (PRAGMA max_page_count)", () => {
  it("enqueue fails with DISK_FULL, loses nothing committed, and works again when space returns", async () => {
    const db = open(tempDbPath());
    const client = new QueueClient({ db });
    await client.enqueueMany(items(500));
    fillDisk(db);
    const failure = await client.enqueueMany(items(2_000, 500)).catch((error: unknown) => error);
    expect(isQueueError(failure, "DISK_FULL")).toBe(true);
    expect((failure as Error).message).toContain(db.path);
    const single = await Promise.all(items(200, 3_000).map((item) => client.enqueue(item.type, item.payload).catch((error) => error)));
    // A failed group commit retries its items one per transaction: the few that fit in free space
    // within existing pages are committed (and resolve); every other one fails with DISK_FULL.
    const fitted = single.filter((result) => !isQueueError(result, "DISK_FULL"));
    expect(fitted.length).toBeLessThan(50);
    for (const result of fitted) expect(result).toMatchObject({ created: true, task: { status: "queued" } });
    expect(await client.counts()).toMatchObject({ queued: 500 + fitted.length });
    freeDisk(db);
    await client.enqueueMany(items(2_000, 500));
    expect(await client.counts()).toMatchObject({ queued: 2_500 + fitted.length });
    expect(integrity(db.path)).toBe("ok");
  });

  it("a worker whose claims and completions hit DISK_FULL reports it, keeps running, and finishes every task once when space returns", async () => {
    const db = open(tempDbPath());
    const client = new QueueClient({ db });
    await client.enqueueMany(items(1_000));
    const release = gate();
    const executed: number[] = [];
    const { worker, errors } = startWorker({
      db,
      concurrency: 300,
      pollIntervalMs: 20,
      leaseMs: 30_000,
      handlers: {
        work: async (_payload, ctx) => {
          executed.push(ctx.task.id);
          await release.wait;
          // A large result: recording it needs new pages.
          return { id: ctx.task.id, blob: "r".repeat(2_000) };
        },
      },
    });
    // Completions: 300 tasks are running when the disk fills up.
    await worker.start();
    await until(() => executed.length === 300, "300 tasks running");
    fillDisk(db);
    release.open();
    await until(() => errors.length >= 2, "the worker to report the full disk");
    expect(worker.state).toBe("running");
    expect(errors.every((error) => isQueueError(error, "DISK_FULL"))).toBe(true);
    expect(await client.counts()).toMatchObject({ completed: 0, leased: 300, queued: 700 });
    freeDisk(db);
    await until(async () => (await client.counts()).completed === 1_000, "every task completed");
    // Claims: with the disk full again, no task can be leased, and the worker says so.
    const errorsBefore = errors.length;
    await client.enqueueMany(items(1_000, 1_000, 200));
    fillDisk(db);
    await until(() => errors.length >= errorsBefore + 2, "claims to fail");
    expect(errors.slice(errorsBefore).every((error) => isQueueError(error, "DISK_FULL"))).toBe(true);
    freeDisk(db);
    await until(async () => (await client.counts()).completed === 2_000, "every task completed");
    await worker.stop();
    expect(executed).toHaveLength(2_000);
    expect(new Set(executed).size).toBe(2_000);
    const results = db.connection.prepare("SELECT count(*) AS n FROM tasks WHERE result ->> 'id' = id").get() as { n: number };
    expect(results.n).toBe(2_000);
    expect(integrity(db.path)).toBe("ok");
  });

  it("cleanup with archive fails with DISK_FULL, keeping every task or archiving whole batches, and completes when space returns", async () => {
    const db = open(tempDbPath());
    const client = new QueueClient({ db });
    await client.enqueueMany(items(3_000, 0, 200));
    db.connection.exec("UPDATE tasks SET status = 'completed', finished_at = 1, result = '{}'");
    await client.enqueue("work", { last: true });
    fillDisk(db);
    const failure = await cleanup(db, { completedOlderThanMs: 0, archive: true, batchSize: 500 }).catch((error: unknown) => error);
    expect(isQueueError(failure, "DISK_FULL")).toBe(true);
    const archived = () => (db.connection.prepare("SELECT count(*) AS n FROM tasks_archive").get() as { n: number }).n;
    const { completed } = await client.counts();
    expect(archived() % 500).toBe(0);
    expect(completed + archived()).toBe(3_000);
    freeDisk(db);
    const report = await cleanup(db, { completedOlderThanMs: 0, archive: true, batchSize: 500 });
    expect(report.completed).toBe(completed);
    expect(archived()).toBe(3_000);
    expect(await client.counts()).toMatchObject({ completed: 0, queued: 1 });
    expect(integrity(db.path)).toBe("ok");
  });
});

describe("a read-only file", () => {
  it("is refused for writing with READ_ONLY by client and worker, and readable with readonly: true", async () => {
    const dir = makeTempDir();
    // The directory stays writable (SQLite needs the -wal and -shm files); the file is not.
    chmodSync(dir, 0o777);
    const path = join(dir, "queue.db");
    const seed = new QueueClient({ path });
    await seed.enqueueMany(items(3));
    await seed.close();
    chmodSync(path, 0o444);
    // Root ignores file permissions: run as `nobody` then.
    const asRoot = process.getuid?.() === 0;
    const result = await runTypeScript(
      fileURLToPath(new URL("../src/faults-readonly-child.ts", import.meta.url)),
      [path],
      asRoot ? { uid: 65534, gid: 65534 } : {},
    );
    expect(result.stderr).toBe("");
    const report = JSON.parse(result.stdout);
    expect(report.openWritable).toMatchObject({ code: "READ_ONLY" });
    expect(report.workerOpenWritable).toMatchObject({ code: "READ_ONLY" });
    expect(report.counts).toMatchObject({ ok: { queued: 3 } });
    expect(report.enqueue).toMatchObject({ code: "READ_ONLY" });
    expect(report.workerStart).toMatchObject({ code: "READ_ONLY" });
    chmodSync(path, 0o600);
    expect(integrity(path)).toBe("ok");
  });
});

describe("the database file deleted or replaced under a running worker", () => {
  async function runningWorker(path: string) {
    const client = new QueueClient({ path });
    closers.push(() => client.close());
    const executed: number[] = [];
    const { worker, errors } = startWorker({
      path,
      pollIntervalMs: 20,
      heartbeatMs: 50,
      leaseMs: 5_000,
      handlers: { work: (_payload, ctx) => void executed.push(ctx.task.id) },
    });
    await worker.start();
    await client.enqueueMany(items(20));
    await until(async () => (await client.counts()).completed === 20, "the first tasks to complete");
    return { client, worker, errors, executed };
  }

  it("deleted: every write fails with READ_ONLY saying the file is gone; the worker reports it and keeps running", async () => {
    const path = tempDbPath();
    const { client, worker, errors, executed } = await runningWorker(path);
    for (const suffix of ["", "-wal", "-shm"]) rmSync(`${path}${suffix}`);
    const failure = await client.enqueue("work", { n: 99 }).catch((error: unknown) => error);
    expect(isQueueError(failure, "READ_ONLY")).toBe(true);
    expect((failure as Error).message).toMatch(/deleted, moved or replaced/);
    await until(() => errors.length >= 2, "the worker to report the missing file");
    expect(errors.every((error) => isQueueError(error, "READ_ONLY") && /deleted, moved or replaced/.test((error as Error).message))).toBe(
      true,
    );
    expect(worker.state).toBe("running");
    await worker.stop();
    expect(executed).toHaveLength(20);
  });

  it("replaced: the old worker cannot write into the new file, which stays intact and serves new workers", async () => {
    const path = tempDbPath();
    const { client, worker, errors } = await runningWorker(path);
    // Another queue file (3 queued tasks) moved into place, as a careful restore does (with its -wal and -shm gone).
    const replacement = `${path}.restored`;
    const other = new QueueClient({ path: replacement });
    await other.enqueueMany(items(3, 100));
    await other.close();
    renameSync(replacement, path);
    for (const suffix of ["-wal", "-shm"]) rmSync(`${path}${suffix}`, { force: true });
    await expect(client.enqueue("work", { n: 99 })).rejects.toMatchObject({ code: "READ_ONLY" });
    await until(() => errors.length >= 2, "the worker to report the replaced file");
    expect(worker.state).toBe("running");
    await worker.stop();
    await client.close();
    // The new file: untouched by the old worker (no claim, no registration), intact, and usable.
    const fresh = new QueueClient({ path });
    closers.push(() => fresh.close());
    expect(await fresh.counts()).toMatchObject({ queued: 3, completed: 0, leased: 0 });
    expect(fresh.db.connection.prepare("SELECT count(*) AS n FROM workers").get()).toEqual({ n: 0 });
    expect(integrity(path)).toBe("ok");
    const stats = await new Worker({ db: fresh.db, handlers: { work: () => undefined } }).runUntilEmpty();
    expect(stats.completed).toBe(3);
  });
});

describe("the database locked by a long foreign transaction", () => {
  it.each(["IMMEDIATE", "EXCLUSIVE"])(
    "BEGIN %s held past the budget: enqueue gets BUSY; a running worker reports BUSY, keeps running and finishes its tasks once the lock is released",
    async (mode) => {
      const path = tempDbPath();
      const busy = { pragmas: { busyTimeoutMs: 20 }, busyRetry: { budgetMs: 300, initialDelayMs: 2, maxDelayMs: 50 } };
      const client = new QueueClient({ path, open: busy });
      closers.push(() => client.close());
      const release = gate();
      const executed: number[] = [];
      const { worker, errors } = startWorker({
        path,
        open: busy,
        concurrency: 10,
        pollIntervalMs: 20,
        heartbeatMs: 100,
        leaseMs: 30_000,
        handlers: {
          work: async (payload, ctx) => {
            executed.push(ctx.task.id);
            if ((payload as { n: number }).n < 5) await release.wait;
          },
        },
      });
      await worker.start();
      await client.enqueueMany(items(5));
      await until(() => executed.length === 5, "5 tasks running");

      const foreign = new Database(path);
      foreign.prepare(`BEGIN ${mode}`).run();
      foreign.prepare("INSERT INTO queue_pauses (type, paused_at) VALUES ('foreign', 0)").run();
      const failure = await client.enqueue("work", { n: 100 }).catch((error: unknown) => error);
      expect(isQueueError(failure, "BUSY")).toBe(true);
      expect((failure as Error).message).toMatch(/busyRetry\.budgetMs/);
      release.open(); // the running tasks finish while the lock is held: their completions must wait
      await until(() => errors.length >= 2, "the worker to report the lock");
      foreign.prepare("ROLLBACK").run();
      foreign.close();

      expect(errors.every((error) => isQueueError(error, "BUSY"))).toBe(true);
      expect(worker.state).toBe("running");
      await client.enqueueMany(items(20, 5));
      await until(async () => (await client.counts()).completed === 25, "every task completed after the lock");
      expect(new Set(executed).size).toBe(25);
      expect(executed).toHaveLength(25);
      await worker.stop();
      expect(integrity(path)).toBe("ok");
    },
  );
});

describe("clock jumps (injected clock)", () => {
  const HOUR = 3_600_000;

  function clockedQueue() {
    const clock = new TestClock(Date.UTC(2030, 0, 1));
    const db = open(tempDbPath(), { clock });
    return { clock, db, client: new QueueClient({ db }) };
  }

  /** Runs every task claimable now with a fresh worker; returns the ids it ran. */
  async function drain(db: QueueDatabase, options: { workerId?: string } = {}): Promise<number[]> {
    const ran: number[] = [];
    await new Worker({
      db,
      pollIntervalMs: 10,
      ...options,
      handlers: { work: (_payload, ctx) => void ran.push(ctx.task.id) },
    }).runUntilEmpty();
    return ran;
  }

  it("backwards: a task enqueued before the jump waits exactly the jump, never longer; new tasks run at once", async () => {
    const { clock, db, client } = clockedQueue();
    const before = (await client.enqueue("work", { n: 1 })).task.id;
    clock.advance(-HOUR);
    const after = (await client.enqueue("work", { n: 2 })).task.id;
    expect(await drain(db)).toEqual([after]);
    clock.advance(HOUR - 1);
    expect(await drain(db)).toEqual([]);
    clock.advance(1);
    expect(await drain(db)).toEqual([before]);
  });

  it("backwards: the lease of a worker that died just before the jump lasts the jump plus the lease, never longer", async () => {
    const { clock, db, client } = clockedQueue();
    const leaseMs = 10_000;
    const { task } = await client.enqueue("work", { n: 1 });
    await db.transaction((tx) =>
      claim(tx, { workerId: "dead", strategy: getStrategy("fifo"), leaseMs, limit: 1, capabilities: [], types: ["work"] }),
    );
    clock.advance(-HOUR);
    expect(await drain(db)).toEqual([]);
    clock.advance(HOUR + leaseMs - 1);
    expect(await drain(db)).toEqual([]);
    clock.advance(1);
    expect(await drain(db)).toEqual([task.id]);
    expect(await client.get(task.id)).toMatchObject({ status: "completed", attempts: 2 });
  });

  it("forwards: a delayed task becomes due, and an expired lease passes to another worker while the holder gets LEASE_LOST", async () => {
    const { clock, db, client } = clockedQueue();
    const delayed = (await client.enqueue("work", { n: 0 }, { delayMs: HOUR })).task.id;
    expect(await drain(db)).toEqual([]);
    clock.advance(HOUR);
    expect(await drain(db)).toEqual([delayed]);

    const leaseMs = 60_000;
    const release = gate();
    let heartbeatError: unknown;
    const holderRan: number[] = [];
    const { worker: holder } = startWorker({
      db,
      workerId: "holder",
      leaseMs,
      heartbeatMs: 50_000,
      pollIntervalMs: 10,
      handlers: {
        work: async (_payload, ctx) => {
          holderRan.push(ctx.task.id);
          await release.wait;
          heartbeatError = await ctx.heartbeat().catch((error: unknown) => error);
          return "from the holder";
        },
      },
    });
    const lost: number[] = [];
    holder.on("lease-lost", (task) => lost.push(task.id));
    await holder.start();
    const { task } = await client.enqueue("work", { n: 1 });
    await until(() => holderRan.length === 1, "the holder to start the task");
    clock.advance(leaseMs);
    expect(await drain(db, { workerId: "taker" })).toEqual([task.id]);
    release.open();
    await until(() => lost.length > 0, "the holder to learn it lost the lease");
    expect(isQueueError(heartbeatError, "LEASE_LOST")).toBe(true);
    await holder.stop();
    expect(lost).toEqual([task.id]);
    expect(await client.get(task.id)).toMatchObject({ status: "completed", attempts: 2, result: null });
  });
});
