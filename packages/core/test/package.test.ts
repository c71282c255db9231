import { fileURLToPath } from "node:url";
import { packageManifestProblems } from "@queue/test-support";
import { describe, expect, it } from "vitest";

describe("the core package", () => {
  it("is packaged as a publishable @queue package with a one-way dependency graph", () => {
    expect(packageManifestProblems(fileURLToPath(new URL("..", import.meta.url)))).toEqual([]);
  });

  it("loads its public surface from source", async () => {
    await expect(import("../src/index.js")).resolves.toBeTypeOf("object");
  });
});
