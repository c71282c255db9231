// The change cursor's text, the same on every backend: "<stamp>:<id>", the position of the last
// change read (the stamp a backend gives each change, in commit order, and the task's id).
import { QueueError } from "../errors.js";

/** A position in a store's changes: after the change stamped `seq` to the task `id`. */
export interface ChangePosition {
  readonly seq: number;
  readonly id: number;
}

/** Before every change. */
export const CHANGE_CURSOR_START: ChangePosition = Object.freeze({ seq: -1, id: 0 });

export function encodeChangeCursor(position: ChangePosition): string {
  return `${position.seq}:${position.id}`;
}

/** The position a cursor names (the start for undefined); INVALID_ARGUMENT for text no store gave. */
export function decodeChangeCursor(cursor: string | undefined): ChangePosition {
  if (cursor === undefined) return CHANGE_CURSOR_START;
  const match = /^(-?\d+):(\d+)$/.exec(cursor);
  if (match === null)
    throw new QueueError("INVALID_ARGUMENT", `Invalid change cursor ${JSON.stringify(cursor)}; pass one a change feed returned.`);
  return { seq: Number(match[1]), id: Number(match[2]) };
}
