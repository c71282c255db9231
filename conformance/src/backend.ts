import type { QueueStore } from "@queue/core";

/** A backend under test: how to make a fresh, empty store, and how to get rid of it. */
export interface ConformanceBackend {
  /** Shown in the test names ("sqlite", "postgres"). */
  readonly name: string;
  /** A new store on empty, migrated storage of its own (a new file, a new schema). */
  createStore(): Promise<QueueStore>;
  /**
   * A second store on the same storage as `store`, with its own connection, as another process
   * would open it. Writes through one are seen by the other.
   */
  openPeer(store: QueueStore): Promise<QueueStore>;
  /** Removes what createStore made (after every store on it is closed); optional. */
  destroy?(store: QueueStore): Promise<void>;
}
