import { isNotRun, NotRun, type Variant } from "../measure.js";

/** Turns any failure of a peer into NotRun, so that it is reported instead of ending the bench. */
export function asPeer(run: Variant): Variant {
  return async (path) => {
    try {
      return await run(path);
    } catch (error) {
      if (isNotRun(error)) throw error;
      throw new NotRun(`failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
}
