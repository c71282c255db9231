// Background checkpoints: copying WAL pages back into the database file on a thread of its own, so
// that the thread that writes (an application's event loop) does not do it inside its commits.
import { createRequire } from "node:module";
import { Worker as Thread } from "node:worker_threads";

/** Indexes into the shared signal array. */
const COMMITS = 0;
const STOP = 1;
/** Set by the thread once its connection is closed. */
const CLOSED = 2;
/** The longest `release()` blocks for the thread to close its connection (it is mid-checkpoint at worst). */
const CLOSE_WAIT_MS = 2_000;

/**
 * The thread's code, plain JavaScript so that it runs the same from sources and from the build.
 * It waits for commits, lets a few gather, then runs a PASSIVE checkpoint: one that never waits for
 * readers or writers and never blocks them. A busy or failed checkpoint is skipped; the writing
 * connection's own automatic checkpoint still runs when the WAL reaches its threshold, so the WAL
 * stays bounded whatever happens here.
 */
const THREAD_CODE = `
const { workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const signals = new Int32Array(workerData.signals);
const db = new Database(workerData.path, { fileMustExist: true });
try {
  db.pragma("busy_timeout = 0");
  db.pragma("synchronous = " + workerData.synchronous);
  db.pragma("wal_autocheckpoint = 0");
  const checkpoint = db.prepare("PRAGMA wal_checkpoint(PASSIVE)");
  // Commits made while the thread was starting count: the first wait returns at once.
  let seen = 0;
  for (;;) {
    Atomics.wait(signals, ${COMMITS}, seen);
    if (Atomics.load(signals, ${STOP}) !== 0) break;
    Atomics.wait(signals, ${STOP}, 0, workerData.gatherMs);
    if (Atomics.load(signals, ${STOP}) !== 0) break;
    seen = Atomics.load(signals, ${COMMITS});
    try {
      checkpoint.get();
    } catch {
      // Busy (another process checkpoints) or failing: the next commit tries again.
    }
  }
} finally {
  db.close();
  Atomics.store(signals, ${CLOSED}, 1);
  Atomics.notify(signals, ${CLOSED});
}
`;

/** How long the thread lets commits gather before a checkpoint. */
const GATHER_MS = 5;

interface Checkpointer {
  readonly signals: Int32Array;
  readonly thread: Thread;
  users: number;
  alive: boolean;
}

/** One checkpointer per database file in this process, shared by its connections. */
const checkpointers = new Map<string, Checkpointer>();

export interface CheckpointerHandle {
  /** False once the thread has failed or exited: the connection checkpoints on its own again. */
  readonly alive: boolean;
  /** Tells the thread a transaction committed. A few nanoseconds; nothing waits. */
  committed(): void;
  /**
   * This connection no longer needs it. The last user stops the thread and waits (briefly) until
   * the thread's connection is closed, so that a connection closing next is the file's last one
   * and SQLite checkpoints and removes the WAL as usual.
   */
  release(): void;
}

/**
 * Starts (or joins) the background checkpointer of the file at `path`. `synchronous` is the
 * connection's setting, so checkpoints sync the files as its own would.
 */
export function acquireCheckpointer(path: string, synchronous: string): CheckpointerHandle {
  let entry = checkpointers.get(path);
  if (entry === undefined || !entry.alive) {
    const signals = new Int32Array(new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT));
    const thread = new Thread(THREAD_CODE, {
      eval: true,
      workerData: {
        path,
        synchronous,
        gatherMs: GATHER_MS,
        signals: signals.buffer,
        driver: createRequire(import.meta.url).resolve("better-sqlite3"),
      },
    });
    // It must never keep the process alive, and its failure must not take the process down: the
    // connection's own automatic checkpoints go on without it.
    thread.unref();
    const created: Checkpointer = { signals, thread, users: 0, alive: true };
    const dead = () => {
      created.alive = false;
      if (checkpointers.get(path) === created) checkpointers.delete(path);
    };
    thread.on("error", dead);
    thread.on("exit", dead);
    checkpointers.set(path, created);
    entry = created;
  }
  const shared = entry;
  shared.users += 1;
  let released = false;
  return {
    get alive() {
      return shared.alive;
    },
    committed() {
      Atomics.add(shared.signals, COMMITS, 1);
      Atomics.notify(shared.signals, COMMITS);
    },
    release() {
      if (released) return;
      released = true;
      shared.users -= 1;
      if (shared.users > 0) return;
      Atomics.store(shared.signals, STOP, 1);
      Atomics.notify(shared.signals, STOP);
      Atomics.add(shared.signals, COMMITS, 1);
      Atomics.notify(shared.signals, COMMITS);
      if (checkpointers.get(path) === shared) checkpointers.delete(path);
      if (shared.alive) Atomics.wait(shared.signals, CLOSED, 0, CLOSE_WAIT_MS);
    },
  };
}

/** Checkpointer threads running now, by file (for tests and diagnostics). */
export function runningCheckpointers(): string[] {
  return [...checkpointers.entries()].filter(([, entry]) => entry.alive).map(([path]) => path);
}
