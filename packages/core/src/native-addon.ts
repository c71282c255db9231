// better-sqlite3 is a native addon: when its install script did not run (pnpm waits for the
// build to be approved, npm can be told to skip scripts) or it was built for another Node.js
// version, loading it fails with a long multi-line message that says nothing about the fix.
import { QueueError } from "./errors.js";

/** What to run so that better-sqlite3's addon exists for the Node.js running the queue. */
export const NATIVE_ADDON_HINT =
  "build better-sqlite3 for this Node.js: `npm rebuild better-sqlite3` (with pnpm: `pnpm approve-builds`, then `pnpm rebuild better-sqlite3`)";

const MISSING = /Could not locate the bindings file|NODE_MODULE_VERSION|was compiled against a different Node\.js version/;

/** True when `error` says better-sqlite3's native addon is missing or built for another Node.js. */
export function isNativeAddonError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (MISSING.test(error.message)) return true;
  return (error as { code?: unknown }).code === "ERR_DLOPEN_FAILED" && /better[_-]sqlite3/.test(error.message);
}

/** The typed, one-line form of a native addon load failure (the original stays as its cause). */
export function nativeAddonError(error: Error): QueueError {
  // Only the first line: the rest lists every path the lookup tried.
  const reason = (error.message.split("\n")[0] ?? "").replace(/\s*Tried:?\s*$/, "").replace(/[.:]+\s*$/, "");
  return new QueueError(
    "NATIVE_ADDON_MISSING",
    `better-sqlite3's native addon cannot be loaded by Node.js ${process.version} (${process.platform}-${process.arch}, modules ${process.versions.modules}): ${reason}.`,
    { cause: error, details: { hint: NATIVE_ADDON_HINT, node: process.version, modules: process.versions.modules } },
  );
}
