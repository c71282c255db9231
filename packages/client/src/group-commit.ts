import { isBusyError } from "@queue/core";

interface Pending<Item, Result> {
  readonly item: Item;
  readonly resolve: (result: Result) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Collects the writes submitted in one turn of the event loop and commits them in shared
 * transactions (at most `maxBatch` items each). A promise resolves only after its item's
 * transaction committed. If a shared transaction fails for a reason other than lock contention,
 * its items are retried one per transaction, so one bad item fails alone.
 */
export class GroupCommitter<Item, Result> {
  readonly #write: (items: readonly Item[]) => Promise<Result[]>;
  readonly #maxBatch: number;
  #pending: Pending<Item, Result>[] = [];
  #scheduled = false;
  #inFlight: Promise<void> = Promise.resolve();

  constructor(write: (items: readonly Item[]) => Promise<Result[]>, maxBatch = 512) {
    this.#write = write;
    this.#maxBatch = maxBatch;
  }

  submit(item: Item): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.#pending.push({ item, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        queueMicrotask(() => {
          this.#inFlight = this.#flush();
        });
      }
    });
  }

  /** Resolves when everything submitted so far has been written (or has failed). */
  async drain(): Promise<void> {
    while (this.#scheduled || this.#pending.length > 0) await this.#inFlight.then(() => new Promise((resolve) => setImmediate(resolve)));
    await this.#inFlight;
  }

  async #flush(): Promise<void> {
    const pending = this.#pending;
    this.#pending = [];
    this.#scheduled = false;
    for (let start = 0; start < pending.length; start += this.#maxBatch) {
      await this.#commit(pending.slice(start, start + this.#maxBatch));
    }
  }

  async #commit(batch: Pending<Item, Result>[]): Promise<void> {
    try {
      const results = await this.#write(batch.map((entry) => entry.item));
      for (const [index, entry] of batch.entries()) entry.resolve(results[index] as Result);
    } catch (error) {
      if (batch.length === 1 || isBusyError(error)) {
        for (const entry of batch) entry.reject(error);
        return;
      }
      for (const entry of batch) await this.#commit([entry]);
    }
  }
}
