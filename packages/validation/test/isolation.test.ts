import { openQueueDatabase, type QueueDatabase } from "@queue/core";
import { removeTempDirs, tempDbPath } from "@queue/test-support";
import { afterEach, describe, expect, it } from "vitest";
import { checkIsolation } from "../src/checks.js";

afterEach(removeTempDirs);

describe("the transaction isolation check (a second process)", () => {
  it("passes on a local file: the other process neither sees the uncommitted write nor gets the write lock", () => {
    const db = openQueueDatabase({ path: tempDbPath() });
    expect(checkIsolation(db)).toMatchObject({ status: "pass", message: expect.stringContaining("another process") });
    expect(db.statement("SELECT count(*) AS n FROM queue_pauses").get()).toEqual({ n: 0 });
    db.close();
  });

  it("fails when the writer's transaction is not isolated (a write visible and the lock free before commit)", () => {
    const db = openQueueDatabase({ path: tempDbPath() });
    // A writer whose "transaction" is no transaction: each statement commits on its own.
    const leaky = {
      path: db.path,
      transactionSync: (fn: (tx: QueueDatabase) => unknown) => fn(db),
    } as unknown as QueueDatabase;
    expect(checkIsolation(leaky)).toMatchObject({ status: "fail", message: "another process saw an uncommitted write" });
    db.close();
  });
});
