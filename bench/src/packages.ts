// Which build of the workspace's packages the bench measures. `pnpm bench` builds them and measures
// the compiled JavaScript, as an application installs it; `pnpm bench:sources` measures the
// TypeScript sources through tsx instead, as the tests run. The two differ most where the queue
// keeps a thread busy: tsx wraps every function it creates to keep its name, a cost the compiled
// packages do not have.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";

export type PackageBuild = "compiled" | "sources";

const SOURCE_CONDITION = "--conditions=@queue/source";
/** How the bench tells its child processes which build to load. */
const ENV = "QUEUE_BENCH_PACKAGES";

/** The build this process loads: sources when it runs with the source condition. */
export function currentBuild(): PackageBuild {
  return process.execArgv.includes(SOURCE_CONDITION) ? "sources" : "compiled";
}

/** Makes child processes load the same build as this one (they load sources unless told otherwise). */
export function shareBuild(build: PackageBuild): void {
  process.env[ENV] = build;
}

/** Node arguments a child process needs to load the build this process shares. */
export function buildArgs(): string[] {
  return process.env[ENV] === "compiled" ? [] : [SOURCE_CONDITION];
}

/** The compiled packages' entry points that are missing: build them first (`pnpm build`). */
export function missingCompiledPackages(names: readonly string[]): string[] {
  const require = createRequire(import.meta.url);
  return names.filter((name) => {
    try {
      return !existsSync(require.resolve(name));
    } catch {
      return true;
    }
  });
}
