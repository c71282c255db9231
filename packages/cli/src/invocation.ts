// How the user started `queue`, so that the commands it suggests can be pasted as they are.

type Environment = Readonly<Record<string, string | undefined>>;

/**
 * The words that run `queue` the way it was run this time: `npx queue` under npx or `npm exec`,
 * `pnpm exec queue` under `pnpm exec`, `pnpm queue` or `npm run queue --` through this
 * repository's scripts, else plain `queue` (a global install, or node_modules/.bin on the PATH).
 */
export function queueCommand(env: Environment = process.env): string {
  const manager = (env.npm_config_user_agent ?? "").split("/")[0] || "npm";
  const event = env.npm_lifecycle_event;
  // The repository's scripts: `queue` runs the CLI from source; `demo` is the Quick start, run
  // through npm by people who may not have pnpm on their PATH.
  if (event === "queue") return manager === "npm" ? "npm run queue --" : `${manager} queue`;
  if (event === "demo") return "npm run queue --";
  if (env.npm_command === "dlx") return `${manager} dlx @queue/cli`;
  if (env.npm_command === "exec" || event === "npx") return manager === "npm" ? "npx queue" : `${manager} exec queue`;
  return "queue";
}
