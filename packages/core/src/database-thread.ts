// A thread of its own for a connection's hot statements: the application's event loop sends it the
// data of a write (rows to insert, outcomes to record, a claim to make) and gets the answer back as
// a message, so the SQLite work and its commits run beside the application's JavaScript instead of
// in its turns.
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parentPort, Worker as Thread, workerData } from "node:worker_threads";
import { systemClock } from "./clock.js";
import { type FileIdentity, isFileAt, type QueueDatabase, sameFile } from "./database.js";
import { QueueError } from "./errors.js";
import { openQueueDatabase } from "./open.js";
import type { PragmaSettings } from "./pragmas.js";

/** What a thread's module serves: each operation runs on the thread's own connection to the file. */
export type DatabaseThreadOps = Readonly<Record<string, (db: QueueDatabase, argument: never) => unknown>>;

interface ThreadData {
  readonly kind: "@queue/database-thread";
  readonly path: string;
  readonly pragmas: PragmaSettings;
  readonly busyRetry: QueueDatabase["busyRetry"];
  /** The file the application opened: the thread opens it only if the path still leads to it. */
  readonly file: FileIdentity | undefined;
}

type Reply = { readonly id: number; readonly value: unknown } | { readonly id: number; readonly error: SentError };
type Status = { readonly ready: true } | { readonly fatal: SentError };

interface SentError {
  readonly name: string;
  readonly message: string;
  readonly code?: unknown;
  readonly details?: Readonly<Record<string, unknown>>;
  readonly path?: string;
  readonly stack?: string;
}

/** Loads the module, through tsx when it is TypeScript (the workspace's sources, in tests). */
const BOOTSTRAP = `
const { parentPort, workerData } = require("node:worker_threads");
(async () => {
  if (workerData.tsx !== undefined) (await import(workerData.tsx)).register();
  await import(workerData.module);
})().catch((error) => {
  const failed = error instanceof Error ? error : new Error(String(error));
  parentPort.postMessage({ fatal: { name: failed.name, message: failed.message, stack: failed.stack } });
});
`;

/** How long a thread may take to open its connection before it counts as failed. */
const START_TIMEOUT_MS = 30_000;

/**
 * The main side of a database thread. Calls are answered in the order they were made, each by its
 * own transaction on the thread (or as the operation decides). A call given a `local` fallback runs
 * that instead while the thread is starting (so nothing waits for it), and once it has failed or
 * stopped (`alive` false). A call without one waits for the start, or rejects with CLOSED. A call
 * in flight when a running thread stops rejects: its transaction may or may not have committed.
 */
export class DatabaseThread {
  readonly #thread: Thread;
  readonly #pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: unknown) => void }>();
  #nextId = 1;
  #alive = true;
  #started = false;
  #failure: QueueError | undefined;
  #closing: Promise<void> | undefined;
  /** Resolves true once the thread has opened its connection, false if it never does. */
  readonly ready: Promise<boolean>;
  #onReady: (started: boolean) => void = () => undefined;
  /**
   * Resolves once the thread has stopped: with why (a CLOSED QueueError whose message and cause
   * say what happened) when it could not start, failed or exited by itself; with undefined when it
   * was closed.
   */
  readonly stopped: Promise<QueueError | undefined>;
  #onStopped: (reason: QueueError | undefined) => void = () => undefined;

  /**
   * Starts a thread that opens its own connection to `db`'s file, with the same settings, and
   * serves the operations that `module` registers with `serveDatabaseThread`. Only for a file
   * (not `:memory:`) on the system clock (see `canUseDatabaseThread`): the thread shares neither.
   */
  constructor(db: QueueDatabase, module: URL) {
    if (!canUseDatabaseThread(db)) {
      throw new QueueError("INVALID_ARGUMENT", "A database thread needs a writable database file on the system clock; this one is not.");
    }
    this.ready = new Promise((resolve) => {
      this.#onReady = resolve;
    });
    this.stopped = new Promise((resolve) => {
      this.#onStopped = resolve;
    });
    const source = fileURLToPath(module).endsWith(".ts");
    const data: ThreadData & { module: string; tsx?: string } = {
      kind: "@queue/database-thread",
      path: db.path,
      pragmas: db.pragmas,
      busyRetry: db.busyRetry,
      file: db.fileIdentity,
      module: module.href,
      ...(source ? { tsx: tsxRegister() } : {}),
    };
    this.#thread = new Thread(BOOTSTRAP, { eval: true, workerData: data, ...(source ? { execArgv: ["--conditions=@queue/source"] } : {}) });
    // It keeps the process alive only while calls wait for it.
    this.#thread.unref();
    const timer = setTimeout(() => this.#die(new Error(`it did not start within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
    timer.unref();
    this.#thread.on("message", (message: Reply | Status) => {
      if ("id" in message) return this.#answer(message);
      clearTimeout(timer);
      if ("fatal" in message) {
        this.#die(received(message.fatal));
        return;
      }
      this.#started = true;
      this.#onReady(true);
    });
    this.#thread.on("error", (error) => this.#die(error));
    this.#thread.on("exit", (code) => this.#die(new Error(`it exited (code ${code})`)));
  }

  /** False once the thread has failed, exited or been closed (or is closing). */
  get alive(): boolean {
    return this.#alive;
  }

  /** True while calls run on the thread: it has started and is neither stopped nor closing. */
  get serving(): boolean {
    return this.#alive && this.#started;
  }

  /**
   * Runs operation `op` on the thread with `argument` (structured-cloned both ways), or `local()`
   * when the thread is not there to run it. Without `local`, that case rejects with CLOSED.
   */
  call<T>(op: string, argument: unknown, local?: () => Promise<T>): Promise<T> {
    if (!this.#alive || (!this.#started && local !== undefined)) return local?.() ?? Promise.reject(this.#closedError());
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      if (this.#pending.size === 0) this.#thread.ref();
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      try {
        this.#thread.postMessage({ id, op, argument });
      } catch (error) {
        // The argument could not be cloned: nothing was sent.
        this.#settled(id);
        reject(error);
      }
    });
  }

  /** Waits for the calls made so far, then closes the thread's connection and ends the thread. */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    const wasAlive = this.#alive;
    // The close is the last call the thread answers: later ones run locally or are refused.
    const closed = wasAlive ? this.call("close", undefined).catch(() => undefined) : Promise.resolve();
    this.#alive = false;
    this.#failure ??= new QueueError("CLOSED", "The database thread is closed.");
    this.#onReady(false);
    this.#onStopped(undefined);
    this.#closing = (async () => {
      await closed;
      await this.#thread.terminate();
      this.#rejectPending();
    })();
    return this.#closing;
  }

  #closedError(): Error {
    return this.#failure ?? new QueueError("CLOSED", "The database thread is closed.");
  }

  #answer(reply: Reply): void {
    const pending = this.#settled(reply.id);
    if (pending === undefined) return;
    if ("error" in reply) pending.reject(received(reply.error));
    else pending.resolve(reply.value);
  }

  #settled(id: number) {
    const pending = this.#pending.get(id);
    this.#pending.delete(id);
    if (this.#pending.size === 0) this.#thread.unref();
    return pending;
  }

  #die(error: Error): void {
    if (this.#alive) {
      this.#alive = false;
      const failure = new QueueError("CLOSED", `The database thread stopped: ${error.message}`, { cause: error });
      this.#failure = failure;
      this.#onReady(false);
      this.#onStopped(failure);
      void this.#thread.terminate();
    }
    this.#rejectPending();
  }

  /** Nothing is left waiting on a thread that is gone: calls it did not answer reject. */
  #rejectPending(): void {
    for (const [id, pending] of [...this.#pending]) {
      this.#settled(id);
      pending.reject(this.#closedError());
    }
  }
}

/** Whether `db` can be served by a database thread: a file of its own, on the system clock, writable. */
export function canUseDatabaseThread(db: QueueDatabase): boolean {
  return db.isOpen && !db.readonly && db.clock === systemClock && db.path !== ":memory:" && db.path !== "";
}

/**
 * The thread side: opens the connection a `DatabaseThread` asked for and serves `ops` on it, one
 * call at a time, in order. Call it from the module given to `new DatabaseThread`; elsewhere it
 * does nothing.
 */
export function serveDatabaseThread(ops: DatabaseThreadOps): void {
  const data = workerData as Partial<ThreadData> | undefined;
  const port = parentPort;
  if (port === null || data?.kind !== "@queue/database-thread") return;
  let db: QueueDatabase;
  try {
    // Never another file than the application's: opening a path that no longer leads to it would
    // create an empty database, or serve one the application does not read. Checked before the
    // open (which would create a missing file), and after it.
    const file = data.file;
    const notTheFile = () =>
      new QueueError(
        "CANNOT_OPEN",
        `${data.path} is no longer the file the application opened (it was moved, replaced or removed since), so the thread does not open it`,
        { path: data.path as string },
      );
    if (file === undefined || !isFileAt(data.path as string, file)) throw notTheFile();
    db = openQueueDatabase({
      path: data.path as string,
      pragmas: data.pragmas,
      busyRetry: data.busyRetry,
      migrate: false,
      // This thread is not the application's: its commits may do the checkpoints themselves.
      checkpoints: "inline",
    });
    if (!sameFile(db.fileIdentity, file)) {
      db.close();
      throw notTheFile();
    }
  } catch (error) {
    port.postMessage({ fatal: sent(error) });
    return;
  }
  let queue: Promise<void> = Promise.resolve();
  port.on("message", (message: { id: number; op: string; argument: unknown }) => {
    queue = queue.then(async () => {
      if (message.op === "close") {
        db.close();
        port.postMessage({ id: message.id, value: undefined });
        port.close();
        return;
      }
      try {
        const op = Object.hasOwn(ops, message.op) ? ops[message.op] : undefined;
        if (op === undefined)
          throw new QueueError("INVALID_ARGUMENT", `The database thread has no operation ${JSON.stringify(message.op)}.`);
        const value = await op(db, message.argument as never);
        port.postMessage({ id: message.id, value });
      } catch (error) {
        try {
          port.postMessage({ id: message.id, error: sent(error) });
        } catch {
          // Its details could not be copied: the name and message still go.
          const { name, message: text } = sent(error);
          port.postMessage({ id: message.id, error: { name, message: text } });
        }
      }
    });
  });
  port.postMessage({ ready: true });
}

function sent(error: unknown): SentError {
  if (!(error instanceof Error)) return { name: "Error", message: String(error) };
  const { code, details, path } = error as { code?: unknown; details?: Readonly<Record<string, unknown>>; path?: string };
  return {
    name: error.name,
    message: error.message,
    ...(code === undefined ? {} : { code }),
    ...(details === undefined ? {} : { details }),
    ...(path === undefined ? {} : { path }),
    ...(error.stack === undefined ? {} : { stack: error.stack }),
  };
}

/** An error from the thread, as the same kind of error here: a QueueError stays one, with its code. */
function received(error: SentError): Error {
  if (error.name === "QueueError" && typeof error.code === "string") {
    return new QueueError(error.code as QueueError["code"], error.message, {
      ...(error.details === undefined ? {} : { details: error.details }),
      ...(error.path === undefined ? {} : { path: error.path }),
    });
  }
  const rebuilt = Object.assign(new Error(error.message), error.code === undefined ? {} : { code: error.code });
  rebuilt.name = error.name;
  if (error.stack !== undefined) rebuilt.stack = error.stack;
  return rebuilt;
}

/** tsx's module hooks, to load the workspace's TypeScript sources on the thread. */
function tsxRegister(): string {
  const resolved = createRequire(import.meta.url).resolve("tsx/esm/api");
  return pathToFileURL(resolved.replace(/index\.cjs$/, "index.mjs")).href;
}
