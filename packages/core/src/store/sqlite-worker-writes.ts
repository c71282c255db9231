// Where a SQLite store runs a worker's ticks, renewals and write-mark reads: on the store's own
// connection, or on a database thread's (beside the handlers rather than between them). A thread
// that stops mid-way hands the work back to the store's connection.
import { randomUUID } from "node:crypto";
import type { QueueDatabase } from "../database.js";
import type { DatabaseThread, DatabaseThreadOps } from "../database-thread.js";
import type { ExtendResult } from "../sql/leases.js";
import { releaseClaim } from "../sql/tasks.js";
import {
  type RenewRequest,
  renewWorker,
  runTick,
  type TickRequest,
  type TickResult,
  type TickRows,
  tickFromRows,
  tickRows,
} from "./worker-tick.js";

/** What a database thread must serve for a store's worker writes (part of STORE_THREAD_OPS). */
export const WORKER_THREAD_OPS = {
  "worker.tick": (db: QueueDatabase, request: TickRequest) => db.transaction((tx) => tickRows(tx, request)),
  "worker.renew": (db: QueueDatabase, request: RenewRequest) => db.transaction((tx) => renewWorker(tx, request)),
  "worker.dataVersion": (db: QueueDatabase) => db.dataVersion(),
} satisfies DatabaseThreadOps;

export class SqliteWorkerWrites {
  readonly #db: QueueDatabase;
  readonly #thread: DatabaseThread | undefined;

  constructor(db: QueueDatabase, thread?: DatabaseThread) {
    this.#db = db;
    this.#thread = thread;
  }

  /** Whether several ticks may be in flight at once (they run on a thread, off this one). */
  get pipelined(): boolean {
    return this.#thread !== undefined;
  }

  tick(request: TickRequest): Promise<TickResult> {
    const thread = this.#thread;
    if (thread === undefined) return this.#ownTick(request);
    return this.#threadTick(thread, request);
  }

  renew(request: RenewRequest): Promise<ExtendResult | undefined> {
    const own = () => this.#db.transaction((tx) => renewWorker(tx, request));
    return this.#thread?.call<ExtendResult | undefined>("worker.renew", request, own) ?? own();
  }

  /**
   * data_version of the connection the claims run on. It counts other connections' commits, one
   * count per connection: the thread's and this connection's must never be compared, so this
   * connection's (while the thread starts, or after it stopped) are told apart by being negative.
   */
  writeMark(): Promise<number> {
    const thread = this.#thread;
    if (thread === undefined) return Promise.resolve(this.#db.dataVersion());
    return thread.call<number>("worker.dataVersion", undefined, async () => ownMark(this.#db.dataVersion()));
  }

  #ownTick(request: TickRequest): Promise<TickResult> {
    return this.#db.transaction((tx) => runTick(tx, request));
  }

  async #threadTick(thread: DatabaseThread, request: TickRequest): Promise<TickResult> {
    // A claim names its lease token here, so that what it took can be given back if its answer is lost.
    const sent =
      request.claim === undefined || request.claim.limit < 1 ? request : { ...request, claim: { ...request.claim, token: randomUUID() } };
    let answer: TickRows | TickResult;
    let ranHere = false;
    try {
      answer = await thread.call<TickRows | TickResult>("worker.tick", sent, async () => {
        ranHere = true;
        const result = await this.#ownTick(sent);
        return result.writeMark === undefined ? result : { ...result, writeMark: ownMark(result.writeMark) };
      });
    } catch (error) {
      // The thread stopped before it answered: the claim may have committed, and its tasks would
      // wait for their lease to expire. They go back to the queue now (nothing, if it did not).
      // A tick run here that failed was rolled back: nothing to give back.
      const token = sent.claim?.token;
      if (token !== undefined && !ranHere && !thread.alive) {
        await this.#db.transaction((tx) => releaseClaim(tx, token, tx.clock.now())).catch(() => undefined);
      }
      throw error;
    }
    return "claimed" in answer ? answer : tickFromRows(answer);
  }
}

function ownMark(version: number): number {
  return version < 0 ? version : -2 - version;
}
