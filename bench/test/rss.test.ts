import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { CAN_SAMPLE_DESCENDANTS, formatRss, parseVmHwm, sampleDescendants } from "../src/rss.js";

describe("parseVmHwm", () => {
  it("reads the peak resident set from /proc/PID/status text, in KiB", () => {
    expect(parseVmHwm("Name:\tnode\nVmPeak:\t 1000 kB\nVmHWM:\t   123456 kB\nVmRSS:\t  100000 kB\n")).toBe(123456);
    expect(parseVmHwm("Name:\tkthreadd\n")).toBeUndefined();
  });
});

describe("formatRss", () => {
  it("shows the peak, its growth over the idle size, and the processes a variant started", () => {
    expect(formatRss({ selfKiB: 61 * 1024, children: 0, childMaxKiB: 0 })).toBe("61 MiB");
    expect(formatRss({ selfKiB: 61 * 1024, idleKiB: 49 * 1024, children: 0, childMaxKiB: 0 })).toBe("61 MiB (+12)");
    expect(formatRss({ selfKiB: 61 * 1024, children: 4, childMaxKiB: 58 * 1024 })).toBe("61 MiB + 4 × 58 MiB");
    expect(formatRss(undefined)).toBe("-");
  });
});

describe("sampleDescendants", () => {
  it("finds the processes a process started, and their grandchildren, with their peaks", async () => {
    // A shell that starts a sleeping grandchild, and waits for it.
    const child = spawn("sh", ["-c", "sleep 2 & wait"], { stdio: "ignore" });
    const sampler = sampleDescendants(process.pid, 10);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const peaks = sampler.stop();
    child.kill();
    if (!CAN_SAMPLE_DESCENDANTS) {
      // No /proc here: nothing is observed, and the figures say so instead of showing zeros.
      expect(peaks.size).toBe(0);
      return;
    }
    expect(peaks.has(child.pid as number)).toBe(true);
    expect(peaks.size).toBeGreaterThanOrEqual(2);
    for (const peak of peaks.values()) expect(peak).toBeGreaterThan(0);
  });
});
