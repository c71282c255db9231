import { defineConfig } from "vitest/config";

/**
 * Tests import workspace packages through the `@queue/source` export condition, which points at
 * `src/index.ts`, so `pnpm test` never waits for a build.
 */
export const SOURCE_CONDITION = "@queue/source";

export interface ProjectConfigOptions {
  /**
   * Measure line coverage of this package's `src/` on every run, print a summary, and fail the run
   * below this percentage.
   */
  readonly minLineCoverage?: number;
  /**
   * Milliseconds a test (and a hook) may take; default 60 s. Raise it for tests that start many
   * processes one after another: on a loaded machine each start can take seconds.
   */
  readonly testTimeout?: number;
}

export function defineProjectConfig(options: ProjectConfigOptions = {}) {
  const conditions = [SOURCE_CONDITION, "node", "import", "module", "default"];
  // Vitest hands the SSR conditions to Node as --conditions, where they apply to require() too:
  // "import" there makes a CommonJS package (pg) require the ESM build of its dependency (pg-pool)
  // and fail. Vite adds "import" or "require" by itself, as each import asks.
  const serverConditions = [SOURCE_CONDITION, "node", "default"];
  return defineConfig({
    resolve: { conditions },
    ssr: { resolve: { conditions: serverConditions, externalConditions: [SOURCE_CONDITION] } },
    test: {
      include: ["test/**/*.test.ts"],
      environment: "node",
      testTimeout: options.testTimeout ?? 60_000,
      hookTimeout: options.testTimeout ?? 60_000,
      reporters: ["default", "json"],
      outputFile: { json: "test-results.json" },
      ...(options.minLineCoverage === undefined
        ? {}
        : {
            coverage: {
              enabled: true,
              provider: "v8" as const,
              include: ["src/**/*.ts"],
              reporter: ["text-summary"],
              thresholds: { lines: options.minLineCoverage },
            },
          }),
    },
  });
}
