// Making a rename durable: on POSIX systems the directory entry is flushed by fsync on the
// directory. Windows has no such call: opening a directory for reading fails (EISDIR) or fsync on
// it does (EPERM), and NTFS journals the rename itself, so there is nothing to do there.
import { closeSync, fsyncSync, openSync } from "node:fs";

/** Error codes that mean "this system cannot fsync a directory", not "the write failed". */
const UNSUPPORTED = new Set(["EISDIR", "EPERM", "EINVAL", "ENOTSUP", "EBADF"]);

/** Flushes the entries of `directory` to disk where the platform can; never throws for platforms that cannot. */
export function syncDirectory(directory: string, platform: NodeJS.Platform = process.platform): void {
  if (platform === "win32") return;
  let fd: number;
  try {
    fd = openSync(directory, "r");
  } catch (error) {
    if (UNSUPPORTED.has((error as NodeJS.ErrnoException).code ?? "")) return;
    throw error;
  }
  try {
    fsyncSync(fd);
  } catch (error) {
    if (!UNSUPPORTED.has((error as NodeJS.ErrnoException).code ?? "")) throw error;
  } finally {
    closeSync(fd);
  }
}
