import { closeSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readSync, renameSync, rmSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { isQueueError, QueueError, type QueueErrorCode } from "./errors.js";

/**
 * Files the queue writes before it deletes or replaces data (archives, exports, registries): each
 * write is complete, checked against the file's size, and flushed to disk before the caller goes
 * on, so a full disk, a short write or a crash never leaves data in neither place.
 *
 * `fs.writeSync` may write fewer bytes than it was given (a disk that fills mid-write does exactly
 * that) and reports it only through its return value; every write here goes through `writeFully`.
 */

/** The operating system's error for a file operation, as a typed error naming the file and what to do. */
export function fileError(error: unknown, path: string, action: string): QueueError {
  if (isQueueError(error)) return error;
  const code = (error as NodeJS.ErrnoException).code;
  const reason = error instanceof Error ? error.message : String(error);
  const [queueCode, advice] = FILE_ERRORS[code ?? ""] ?? ["IO_ERROR", "check the disk and the path, then run it again"];
  return new QueueError(queueCode, `Cannot ${action} ${path}: ${reason}; ${advice}.`, {
    cause: error,
    path,
    details: { errno: code },
  });
}

const FILE_ERRORS: Readonly<Record<string, readonly [QueueErrorCode, string]>> = {
  ENOSPC: ["DISK_FULL", "the disk is full; free space on it, then run the same command again (nothing was deleted)"],
  EDQUOT: ["DISK_FULL", "the disk quota is used up; free space, then run the same command again (nothing was deleted)"],
  EFBIG: ["DISK_FULL", "the file reached the largest size allowed; write to a new file"],
  EROFS: ["READ_ONLY", "the file system is read-only; choose a writable location"],
  EACCES: ["CANNOT_OPEN", "permission denied; choose a location this user can write"],
  EPERM: ["CANNOT_OPEN", "permission denied; choose a location this user can write"],
  ENOENT: ["CANNOT_OPEN", "a directory on the path does not exist"],
  ENOTDIR: ["CANNOT_OPEN", "a part of the path is a file, not a directory"],
  EISDIR: ["CANNOT_OPEN", "the path is a directory; give a file name"],
  EEXIST: ["INVALID_ARGUMENT", "a file is already there; choose a new name"],
  EIO: ["IO_ERROR", "the disk reported an I/O error; check it before going on"],
};

/** Writes every byte of `data` at the file's current position, however many calls it takes. */
export function writeFully(fd: number, data: string | Uint8Array): number {
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  let offset = 0;
  while (offset < bytes.length) {
    const written = writeSync(fd, bytes, offset, bytes.length - offset);
    // A regular file never accepts 0 bytes without an error; guard against looping forever anyway.
    if (written <= 0) throw Object.assign(new Error("the write made no progress"), { code: "EIO" });
    offset += written;
  }
  return bytes.length;
}

/** Error codes that mean "this system cannot fsync a directory", not "the write failed". */
const DIRECTORY_SYNC_UNSUPPORTED = new Set(["EISDIR", "EPERM", "EINVAL", "ENOTSUP", "EBADF"]);

/**
 * Flushes a directory's entries (a rename or new file in it) to disk where the platform can.
 * Windows has no such call (opening a directory fails with EISDIR, or fsync on it with EPERM) and
 * NTFS journals the rename itself, so there, and wherever the system says it cannot, it does nothing.
 */
export function fsyncDirectory(directory: string, platform: NodeJS.Platform = process.platform): void {
  if (platform === "win32") return;
  let fd: number;
  try {
    fd = openSync(directory, "r");
  } catch (error) {
    if (DIRECTORY_SYNC_UNSUPPORTED.has((error as NodeJS.ErrnoException).code ?? "")) return;
    throw error;
  }
  try {
    fsyncSync(fd);
  } catch (error) {
    if (!DIRECTORY_SYNC_UNSUPPORTED.has((error as NodeJS.ErrnoException).code ?? "")) throw error;
  } finally {
    closeSync(fd);
  }
}

/**
 * A file that appears under its name only once it is complete: written in parts to a temporary
 * file beside it, then `commit()` flushes it, renames it over `path` and flushes the directory. A
 * failure (a full disk) or `abort()` removes the temporary file and leaves any old file as it was;
 * a crash leaves the old file or the new one, never a torn one.
 */
export class AtomicFileWriter {
  readonly path: string;
  readonly #temporary: string;
  #fd: number | undefined;
  #length = 0;

  constructor(path: string, options: { readonly mode?: number } = {}) {
    this.path = path;
    this.#temporary = `${path}.tmp-${process.pid}-${Date.now().toString(36)}`;
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      this.#fd = openSync(this.#temporary, "wx", options.mode ?? 0o600);
    } catch (error) {
      throw fileError(error, path, "create");
    }
  }

  /** Adds `data` to the file (all of it, or a typed error after which the writer is aborted). */
  write(data: string | Uint8Array): void {
    const fd = this.#open();
    try {
      this.#length += writeFully(fd, data);
    } catch (error) {
      this.abort();
      throw fileError(error, this.path, "write");
    }
  }

  /** Makes the file durable under its name; returns its size in bytes. */
  commit(): number {
    const fd = this.#open();
    try {
      if (fstatSync(fd).size !== this.#length) throw Object.assign(new Error("the file is shorter than what was written"), { code: "EIO" });
      fsyncSync(fd);
      closeSync(fd);
      this.#fd = undefined;
      renameSync(this.#temporary, this.path);
    } catch (error) {
      this.abort();
      throw fileError(error, this.path, "write");
    }
    try {
      fsyncDirectory(dirname(this.path));
    } catch (error) {
      throw fileError(error, dirname(this.path), "flush the directory of");
    }
    return this.#length;
  }

  /** Removes the temporary file; the file under `path`, if any, is untouched. Safe to call twice. */
  abort(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
    rmSync(this.#temporary, { force: true });
  }

  #open(): number {
    if (this.#fd === undefined) throw new QueueError("CLOSED", `The write of ${this.path} has ended.`, { path: this.path });
    return this.#fd;
  }
}

/** Replaces `path` with `data` atomically and durably (see {@link AtomicFileWriter}). */
export function writeFileDurably(path: string, data: string | Uint8Array, options: { readonly mode?: number } = {}): void {
  const writer = new AtomicFileWriter(path, options);
  writer.write(data);
  writer.commit();
}

/**
 * An append-only file of whole lines (NDJSON) whose every `append` is all on disk or not there at
 * all. Before each append, a torn last line (left by a crash during an append, whose data was
 * therefore never deleted anywhere) is cut off, so new records never join it. A failed append (a
 * full disk) cuts the file back to where it was and throws a typed error; the file stays valid.
 * Appends made inside a write transaction are serialized across processes by its lock.
 */
export class DurableAppendFile {
  readonly path: string;
  readonly #fd: number;
  #closed = false;

  constructor(path: string, options: { readonly mode?: number } = {}) {
    this.path = path;
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      this.#fd = openSync(path, "a+", options.mode ?? 0o600);
    } catch (error) {
      throw fileError(error, path, "open");
    }
  }

  /** Appends `text` (whole lines, each ending in a newline) and flushes it to disk before returning. */
  append(text: string): void {
    if (this.#closed) throw new QueueError("CLOSED", `The file ${this.path} was closed.`, { path: this.path });
    if (text.length === 0) return;
    if (!text.endsWith("\n")) throw new QueueError("INVALID_ARGUMENT", `Appends to ${this.path} must be whole lines ending in a newline.`);
    let before: number;
    try {
      before = this.#cutTornTail(fstatSync(this.#fd).size);
    } catch (error) {
      throw fileError(error, this.path, "read");
    }
    try {
      const length = writeFully(this.#fd, text);
      const after = fstatSync(this.#fd).size;
      if (after !== before + length)
        throw Object.assign(new Error(`the file holds ${after - before} of the ${length} bytes written`), { code: "EIO" });
      fsyncSync(this.#fd);
    } catch (error) {
      this.#restore(before);
      throw fileError(error, this.path, "append to");
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeSync(this.#fd);
  }

  /** Cuts the file back to `size` after a failed append (a truncate frees space, so it succeeds on a full disk). */
  #restore(size: number): void {
    try {
      ftruncateSync(this.#fd, size);
      fsyncSync(this.#fd);
    } catch {
      // The error of the append is the one to report; the next open cuts a torn tail anyway.
    }
  }

  /** Returns the size of the file's whole lines, cutting off a last line that has no newline. */
  #cutTornTail(size: number): number {
    if (size === 0) return 0;
    const last = Buffer.alloc(1);
    if (readSync(this.#fd, last, 0, 1, size - 1) === 1 && last[0] === 0x0a) return size;
    const chunk = Buffer.alloc(Math.min(size, 64 * 1024));
    let end = size;
    while (end > 0) {
      const start = Math.max(0, end - chunk.length);
      const read = readSync(this.#fd, chunk, 0, end - start, start);
      const newline = chunk.subarray(0, read).lastIndexOf(0x0a);
      if (newline !== -1) {
        const whole = start + newline + 1;
        if (whole !== size) {
          ftruncateSync(this.#fd, whole);
          fsyncSync(this.#fd);
        }
        return whole;
      }
      end = start;
    }
    ftruncateSync(this.#fd, 0);
    fsyncSync(this.#fd);
    return 0;
  }
}
