import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const created: string[] = [];

/** A fresh empty directory; `removeTempDirs()` (in afterEach/afterAll) deletes every one made. */
export function makeTempDir(prefix = "queue-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of created.splice(0)) {
    // A test may have made the directory read-only; give it back before deleting.
    chmodSync(dir, 0o700);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A path for a new database file in a fresh temporary directory. */
export function tempDbPath(name = "queue.db"): string {
  return join(makeTempDir(), name);
}
