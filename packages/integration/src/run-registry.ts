import { existsSync, readFileSync, renameSync } from "node:fs";
import { type Clock, QueueError, systemClock, TypedEmitter, writeFileDurably } from "@queue/core";
import { isFinal, type Run, type RunStatus, runWith } from "./run.js";

/** The code of the process warning emitted when a background save of the run history fails. */
export const RUN_HISTORY_NOT_SAVED = "QUEUE_RUN_HISTORY_NOT_SAVED";

export interface RunRegistryEvents {
  change: (run: Run) => void;
  /** The history file could not be read; it was moved aside to `keptAt` and a fresh history started. */
  warning: (message: string, keptAt: string) => void;
}

export interface RunRegistryOptions {
  /** Where the history is persisted as JSON. Without it the registry lives in memory only. */
  readonly file?: string;
  readonly clock?: Clock;
}

/**
 * Runs by id, with their status and timing, persisted as a JSON history. Writes are atomic (a
 * temporary file renamed over the old one), batched to at most one per turn of the event loop.
 * A history file that cannot be parsed is never discarded: it is renamed aside and reported.
 */
export class RunRegistry extends TypedEmitter<RunRegistryEvents> {
  readonly file: string | undefined;
  readonly clock: Clock;
  /** Set when the history file was unreadable at load: where the bad file was kept. */
  readonly corruptFileKeptAt: string | undefined;
  readonly #runs = new Map<string, Run>();
  #saveScheduled = false;

  constructor(options: RunRegistryOptions = {}) {
    super();
    this.file = options.file;
    this.clock = options.clock ?? systemClock;
    this.corruptFileKeptAt = this.file === undefined ? undefined : this.#load(this.file);
  }

  /** Registers a new run: a copy of `run`, or `run` itself when it is frozen already (nothing can change it). */
  add(run: Run): Run {
    if (this.#runs.has(run.id)) throw new QueueError("INVALID_ARGUMENT", `A run with id ${run.id} is already registered.`);
    return this.#set(Object.isFrozen(run) ? run : runWith(run, {}));
  }

  update(id: string, patch: Partial<Omit<Run, "id">>): Run {
    const run = this.#runs.get(id);
    if (run === undefined) throw new QueueError("NOT_FOUND", `No run with id ${id}.`);
    return this.#set(runWith(run, patch));
  }

  get(id: string): Run | undefined {
    return this.#runs.get(id);
  }

  all(): Run[] {
    return [...this.#runs.values()];
  }

  active(): Run[] {
    return this.all().filter((run) => !isFinal(run.status));
  }

  byModule(moduleId: string): Run[] {
    return this.all().filter((run) => run.moduleId === moduleId);
  }

  byStatus(status: RunStatus): Run[] {
    return this.all().filter((run) => run.status === status);
  }

  /** The newest runs first. */
  recent(limit = 20): Run[] {
    return this.all()
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
      .slice(0, limit);
  }

  /** Forgets finished runs that ended longer ago than `olderThanMs`; returns how many. */
  cleanup(olderThanMs: number): number {
    const before = this.clock.now() - olderThanMs;
    let removed = 0;
    for (const run of this.all()) {
      if (isFinal(run.status) && run.finishedAt !== undefined && Date.parse(run.finishedAt) < before) {
        this.#runs.delete(run.id);
        removed += 1;
      }
    }
    if (removed > 0) this.#scheduleSave();
    return removed;
  }

  /**
   * Writes the history now, atomically and durably: a power loss or a full disk leaves either the
   * old history or the new one, never an empty or torn file. A failure is thrown as a typed error.
   */
  save(): void {
    this.#saveScheduled = false;
    if (this.file === undefined) return;
    writeFileDurably(this.file, `${JSON.stringify({ version: 1, runs: this.all() }, null, 2)}\n`);
  }

  /**
   * Makes `changes` and writes the history at once. If the write fails, every run is as it was
   * before and the error is thrown: the caller can rely on the file holding the changes before it
   * deletes their only other copy (a queue's tasks, say).
   */
  changeDurably<T>(changes: () => T): T {
    const before = new Map(this.#runs);
    try {
      const result = changes();
      this.save();
      return result;
    } catch (error) {
      for (const id of new Set([...before.keys(), ...this.#runs.keys()])) {
        const previous = before.get(id);
        if (previous === this.#runs.get(id)) continue;
        if (previous === undefined) this.#runs.delete(id);
        else this.#set(previous);
      }
      throw error;
    }
  }

  /** Stores a frozen run: a fresh copy made by the caller (so it is copied once), or the caller's frozen run. */
  #set(frozen: Run): Run {
    this.#runs.set(frozen.id, frozen);
    this.#scheduleSave();
    this.emit("change", frozen);
    return frozen;
  }

  #scheduleSave(): void {
    if (this.file === undefined || this.#saveScheduled) return;
    this.#saveScheduled = true;
    setImmediate(() => {
      if (!this.#saveScheduled) return;
      // Nothing may escape a setImmediate callback: it would end the process. The runs stay in
      // memory and the next change (or an explicit save()) writes them again.
      try {
        this.save();
      } catch (error) {
        process.emitWarning(`The run history ${this.file} could not be saved: ${(error as Error).message}`, {
          code: RUN_HISTORY_NOT_SAVED,
        });
      }
    });
  }

  #load(file: string): string | undefined {
    if (!existsSync(file)) return undefined;
    try {
      const parsed = JSON.parse(readFileSync(file, "utf8")) as { runs?: unknown };
      if (!Array.isArray(parsed.runs)) throw new Error("no runs array");
      for (const run of parsed.runs as Run[]) {
        if (typeof run?.id !== "string" || typeof run.moduleId !== "string" || typeof run.status !== "string")
          throw new Error("a run without id, moduleId or status");
        this.#runs.set(run.id, Object.freeze(run));
      }
      return undefined;
    } catch (error) {
      const keptAt = `${file}.corrupt-${this.clock.now()}`;
      renameSync(file, keptAt);
      queueMicrotask(() =>
        this.emit(
          "warning",
          `The run history ${file} could not be read (${(error as Error).message}); it was kept at ${keptAt} and a new history started.`,
          keptAt,
        ),
      );
      return keptAt;
    }
  }
}
