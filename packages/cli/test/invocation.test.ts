import { describe, expect, it } from "vitest";
import { queueCommand } from "../src/invocation.js";

const npm = "npm/11.19.1 node/v24.1.0 linux x64 workspaces/false";
const pnpm = "pnpm/10.34.8 npm/? node/v24.1.0 linux x64";

describe("the command `queue` suggests for next steps", () => {
  it.each([
    ["npx queue demo", { npm_config_user_agent: npm, npm_lifecycle_event: "npx", npm_command: "exec" }, "npx queue"],
    ["npm exec queue demo", { npm_config_user_agent: npm, npm_command: "exec" }, "npx queue"],
    ["pnpm exec queue demo", { npm_config_user_agent: pnpm, npm_command: "exec" }, "pnpm exec queue"],
    ["pnpm dlx @queue/cli demo", { npm_config_user_agent: pnpm, npm_command: "dlx" }, "pnpm dlx @queue/cli"],
    ["pnpm queue demo (in the repository)", { npm_config_user_agent: pnpm, npm_lifecycle_event: "queue" }, "pnpm queue"],
    ["npm run queue -- demo (in the repository)", { npm_config_user_agent: npm, npm_lifecycle_event: "queue" }, "npm run queue --"],
    [
      "npm run quickstart (pnpm runs the demo script under npx)",
      { npm_config_user_agent: pnpm, npm_lifecycle_event: "demo", npm_command: "exec" },
      "npm run queue --",
    ],
    ["queue demo (installed globally)", {}, "queue"],
  ])("%s", (_, env, expected) => {
    expect(queueCommand(env)).toBe(expected);
  });
});
