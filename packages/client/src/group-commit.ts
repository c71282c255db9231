import { isBusyError } from "@queue/core";

/** The fate of one item after its transaction committed. */
export type Settled<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

interface Pending<Item, Result> {
  readonly item: Item;
  readonly resolve: (result: Result) => void;
  readonly reject: (error: unknown) => void;
}

/** Items per transaction unless the committer is told otherwise. */
const DEFAULT_MAX_BATCH = 512;

/**
 * Collects the writes submitted in one turn of the event loop and commits them in shared
 * transactions (at most `maxBatch` items each, read before each transaction, with a turn of the
 * event loop between them). A promise resolves only after its item's transaction committed.
 * Flushes run one after another, so items commit in the order they were submitted. `write` rejects
 * only when its transaction failed; then, unless the failure was lock contention, the items are
 * retried one per transaction so that one bad item fails alone. What goes wrong after a commit is
 * reported per item and never causes a second write. `onRejected`, if given, hears of every item
 * whose promise is rejected, just before it is.
 */
export class GroupCommitter<Item, Result> {
  readonly #write: (items: readonly Item[]) => Promise<Settled<Result>[]>;
  readonly #maxBatch: () => number;
  readonly #onRejected: ((item: Item, error: unknown) => void) | undefined;
  #pending: Pending<Item, Result>[] = [];
  #scheduled = false;
  #tail: Promise<void> = Promise.resolve();

  constructor(
    write: (items: readonly Item[]) => Promise<Settled<Result>[]>,
    maxBatch: number | (() => number) = DEFAULT_MAX_BATCH,
    onRejected?: (item: Item, error: unknown) => void,
  ) {
    this.#write = write;
    this.#maxBatch = typeof maxBatch === "number" ? () => maxBatch : maxBatch;
    this.#onRejected = onRejected;
  }

  submit(item: Item): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.#pending.push({ item, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        queueMicrotask(() => {
          this.#tail = this.#tail.then(() => this.#flush());
        });
      }
    });
  }

  /** Resolves when everything submitted so far has been written (or has failed). */
  async drain(): Promise<void> {
    for (;;) {
      await this.#tail;
      if (!this.#scheduled && this.#pending.length === 0) return;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  async #flush(): Promise<void> {
    const pending: (Pending<Item, Result> | undefined)[] = this.#pending;
    this.#pending = [];
    this.#scheduled = false;
    for (let start = 0; start < pending.length; ) {
      // Between batches the event loop gets a turn: a burst of thousands of writes must not hold
      // timers, I/O and local workers for the whole of it.
      if (start > 0) await new Promise((resolve) => setImmediate(resolve));
      const end = start + batchSize(this.#maxBatch);
      const batch = pending.slice(start, end) as Pending<Item, Result>[];
      // Let go of the batch's entries: each holds its settled promise and result, and a burst's
      // last batch may commit long after its first.
      pending.fill(undefined, start, end);
      await this.#commit(batch);
      start = end;
    }
  }

  async #commit(batch: Pending<Item, Result>[]): Promise<void> {
    let settled: Settled<Result>[];
    try {
      settled = await this.#write(batch.map((entry) => entry.item));
    } catch (error) {
      if (batch.length === 1 || isBusyError(error)) {
        for (const entry of batch) this.#reject(entry, error);
        return;
      }
      for (const entry of batch) await this.#commit([entry]);
      return;
    }
    for (const [index, entry] of batch.entries()) {
      const outcome = settled[index];
      if (outcome?.ok) entry.resolve(outcome.value);
      else this.#reject(entry, outcome?.error ?? new Error("group commit: no result for an item"));
    }
  }

  #reject(entry: Pending<Item, Result>, error: unknown): void {
    try {
      this.#onRejected?.(entry.item, error);
    } catch {
      // The hook's own failure must not keep this item, or the rest of the batch, from settling:
      // the item is rejected with its error all the same.
    }
    entry.reject(error);
  }
}

/** The size `maxBatch` asks for, if it is a whole number of at least 1; else the default, so a bad value never stalls the writes. */
function batchSize(maxBatch: () => number): number {
  try {
    const size = maxBatch();
    return Number.isSafeInteger(size) && size >= 1 ? size : DEFAULT_MAX_BATCH;
  } catch {
    return DEFAULT_MAX_BATCH;
  }
}
