/**
 * The claim loop's modes. It is always in exactly one, and moves between them only through
 * `transition`:
 *
 * - starting: the worker is registering; nothing is claimed yet.
 * - claiming: starts claimed-ahead tasks in free slots and runs ticks (record outcomes, claim more)
 *   while there is room for a batch, sending them ahead on a database thread.
 * - waiting: no room for a batch: waits for a handler to finish, or for the oldest outcome's
 *   deadline to record it.
 * - polling: the queue ran dry for this worker: polls cheaply for new work.
 * - backing-off: a tick failed: waits (longer after each failure in a row) before the next.
 * - draining: stop() was called, or runUntilEmpty() found the queue empty: no more claims; the
 *   running tasks finish and their outcomes are recorded.
 * - stopped: everything is recorded and the worker is deregistered.
 */
export type LoopMode = "starting" | "claiming" | "waiting" | "polling" | "backing-off" | "draining" | "stopped";

const MOVES: Readonly<Record<LoopMode, readonly LoopMode[]>> = {
  starting: ["claiming", "draining", "stopped"],
  claiming: ["claiming", "waiting", "polling", "backing-off", "draining"],
  waiting: ["claiming", "draining"],
  polling: ["claiming", "draining"],
  "backing-off": ["claiming", "draining"],
  draining: ["draining", "stopped"],
  stopped: ["stopped"],
};

/** Whether the loop runs in this mode (it claims, or waits to claim). */
export function isLooping(mode: LoopMode): boolean {
  return mode === "claiming" || mode === "waiting" || mode === "polling" || mode === "backing-off";
}

/**
 * The mode after `from` when `to` is asked for. A stop wins: once draining (or stopped), what a
 * step that was under way asks for next is ignored. Any other move not in the table is a bug.
 */
export function transition(from: LoopMode, to: LoopMode): LoopMode {
  if (MOVES[from].includes(to)) return to;
  if (from === "draining" || from === "stopped") return from;
  throw new Error(`The claim loop cannot move from ${from} to ${to}.`);
}
