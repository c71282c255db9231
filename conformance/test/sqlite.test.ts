import { rmSync } from "node:fs";
import { openQueueDatabase, SqliteStore } from "@queue/core";
import { removeTempDirs, tempDbPath } from "@queue/test-support";
import { afterAll } from "vitest";
import { describeBackendConformance } from "../src/index.js";

afterAll(removeTempDirs);

describeBackendConformance({
  name: "sqlite",
  async createStore() {
    return SqliteStore.open({ path: tempDbPath() });
  },
  async openPeer(store) {
    return new SqliteStore(openQueueDatabase({ path: store.location }), { ownsDatabase: true });
  },
  async destroy(store) {
    for (const suffix of ["", "-wal", "-shm"]) rmSync(`${store.location}${suffix}`, { force: true });
  },
});
