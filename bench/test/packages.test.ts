import { afterEach, describe, expect, it } from "vitest";
import { buildArgs, missingCompiledPackages, shareBuild } from "../src/packages.js";

const saved = process.env.QUEUE_BENCH_PACKAGES;
afterEach(() => {
  if (saved === undefined) delete process.env.QUEUE_BENCH_PACKAGES;
  else process.env.QUEUE_BENCH_PACKAGES = saved;
});

describe("the build the bench measures", () => {
  it("has child processes load the sources unless the compiled packages were shared", () => {
    delete process.env.QUEUE_BENCH_PACKAGES;
    expect(buildArgs()).toEqual(["--conditions=@queue/source"]);
    shareBuild("compiled");
    expect(buildArgs()).toEqual([]);
    shareBuild("sources");
    expect(buildArgs()).toEqual(["--conditions=@queue/source"]);
  });

  it("names the packages whose compiled entry point cannot be found", () => {
    expect(missingCompiledPackages(["@queue/no-such-package", "better-sqlite3"])).toEqual(["@queue/no-such-package"]);
  });
});
