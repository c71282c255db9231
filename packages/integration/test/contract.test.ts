import { BackgroundTaskManager, QueuedTaskManager, RunRegistry } from "@queue/integration";
import { removeTempDirs, tempDbPath } from "@queue/test-support";
import { afterEach } from "vitest";
import { taskManagerContract } from "./contract.js";

afterEach(removeTempDirs);

taskManagerContract("BackgroundTaskManager", () => new BackgroundTaskManager(new RunRegistry()));
taskManagerContract(
  "QueuedTaskManager",
  () =>
    new QueuedTaskManager({
      path: tempDbPath(),
      embeddedWorker: { concurrency: 8, heartbeatMs: 20, pollIntervalMs: 5 },
      syncIntervalMs: 10,
    }),
);
taskManagerContract(
  "QueuedTaskManager writing from a database thread",
  () =>
    new QueuedTaskManager({
      path: tempDbPath(),
      databaseThread: true,
      embeddedWorker: { concurrency: 8, heartbeatMs: 20, pollIntervalMs: 5 },
      syncIntervalMs: 10,
    }),
);
