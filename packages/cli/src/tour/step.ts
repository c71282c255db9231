import type { QueueClient } from "@queue/client";
import type { QueueDatabase } from "@queue/core";

/** What every step of the tour works on: one fresh queue file, and where its backup and archive go. */
export interface TourContext {
  readonly db: QueueDatabase;
  readonly client: QueueClient;
  readonly path: string;
  readonly backupFile: string;
  readonly archiveFile: string;
  /** Shows the one-line API call that does something, then what it did (one line per outcome). */
  call(code: string, ...outcome: string[]): void;
  /** A line of explanation. */
  note(line: string): void;
  /** Facts a step hands to later steps (the ids it enqueued, for example). */
  readonly shared: Map<string, unknown>;
}

/** What a step found: whether it went as it should, and the facts the `--json` report carries. */
export interface StepReport {
  readonly ok: boolean;
  readonly data: Record<string, unknown>;
}

export interface TourStep {
  /** A short name for the --json report and the prompt ("enqueue"). */
  readonly name: string;
  /** The step's heading ("Enqueue: one, a batch, idempotent, delayed"). */
  readonly title: string;
  /** One or two sentences on what the step shows and why it matters. */
  readonly summary: string;
  run(tour: TourContext): Promise<StepReport>;
}

/** "1-5" for consecutive ids, else a comma list. */
export function idRange(ids: readonly number[]): string {
  if (ids.length === 0) return "none";
  const first = ids[0] as number;
  const last = ids[ids.length - 1] as number;
  return ids.every((id, index) => id === first + index) && ids.length > 1 ? `${first}-${last}` : ids.join(", ");
}
