import { homedir } from "node:os";
import nodePath from "node:path";

export const DATABASE_PATH_ENV = "QUEUE_DB_PATH";
const APP_DIRECTORY = "queue";
const FILE_NAME = "queue.db";

export interface ResolveDatabasePathOptions {
  /** An explicit path wins over everything else. */
  readonly path?: string | undefined;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly platform?: NodeJS.Platform;
  readonly homeDirectory?: string;
}

/**
 * Where the queue database lives: the explicit path, else `QUEUE_DB_PATH`, else the platform's
 * per-user data directory (never a temporary directory, which the OS may empty):
 * - Linux and other Unix: `$XDG_DATA_HOME/queue/queue.db`, or `~/.local/share/queue/queue.db`
 * - macOS: `~/Library/Application Support/queue/queue.db`
 * - Windows: `%LOCALAPPDATA%\queue\queue.db`
 * Relative paths resolve against the current directory; `:memory:` and a database server's URL
 * (postgres://) are returned as they are.
 */
export function resolveDatabasePath(options: ResolveDatabasePathOptions = {}): string {
  const env = options.env ?? process.env;
  const platform = options.platform ?? process.platform;
  const explicit = nonEmpty(options.path) ?? nonEmpty(env[DATABASE_PATH_ENV]);
  const path = platform === "win32" ? nodePath.win32 : nodePath.posix;
  if (explicit !== undefined) return explicit === ":memory:" || isServerLocation(explicit) ? explicit : nodePath.resolve(explicit);
  const home = options.homeDirectory ?? homedir();
  return path.join(defaultDataDirectory(platform, env, home, path), APP_DIRECTORY, FILE_NAME);
}

function defaultDataDirectory(
  platform: NodeJS.Platform,
  env: Readonly<Record<string, string | undefined>>,
  home: string,
  path: nodePath.PlatformPath,
): string {
  if (platform === "win32") return nonEmpty(env.LOCALAPPDATA) ?? path.join(home, "AppData", "Local");
  if (platform === "darwin") return path.join(home, "Library", "Application Support");
  const xdg = nonEmpty(env.XDG_DATA_HOME);
  // The XDG spec says a relative XDG_DATA_HOME is invalid and must be ignored.
  return xdg !== undefined && path.isAbsolute(xdg) ? xdg : path.join(home, ".local", "share");
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value;
}

/** True when `location` names a database server (postgres:// or postgresql://) rather than a file. */
export function isServerLocation(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

/** The URL with its password replaced by `***`, for messages and logs. */
export function redactLocation(location: string): string {
  return location.replace(/^([a-z]+:\/\/[^:/@]*:)[^@]*@/i, "$1***@");
}
