// The database thread of a QueuedTaskManager: the runs it starts are inserted, and its embedded
// worker's claims, outcomes and lease renewals written, on this thread's own connection.
import { CLIENT_THREAD_OPS } from "@queue/client";
import { serveDatabaseThread } from "@queue/core";
import { WORKER_THREAD_OPS } from "@queue/worker-engine";

serveDatabaseThread({ ...CLIENT_THREAD_OPS, ...WORKER_THREAD_OPS });
