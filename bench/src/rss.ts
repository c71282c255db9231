// Peak resident memory of the processes doing a variant's work. A process's own peak is exact: the
// kernel keeps its high-water mark (getrusage maxrss, process.resourceUsage().maxRSS). Processes a
// variant starts itself are read from outside, from /proc/PID/status (VmHWM, the same high-water
// mark), every few milliseconds while they live; Linux only.
import { readdirSync, readFileSync } from "node:fs";

/** Peak RSS of a variant: its own process, and the processes it started (none, or several). */
export interface PeakRss {
  /** KiB; the process that ran the variant. */
  readonly selfKiB: number;
  /** KiB; the same process once ready, before the measured work (its modules loaded, nothing run). */
  readonly idleKiB?: number;
  /** Processes the variant started in one round, at most. */
  readonly children: number;
  /** KiB; the largest peak among them. */
  readonly childMaxKiB: number;
}

/** The VmHWM line of /proc/PID/status, in KiB; undefined if absent. */
export function parseVmHwm(status: string): number | undefined {
  const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status);
  return match === null ? undefined : Number(match[1]);
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** Direct children of `pid` (every thread's list), from /proc. */
function childrenOf(pid: number): number[] {
  let threads: string[];
  try {
    threads = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  return threads.flatMap((thread) =>
    (read(`/proc/${pid}/task/${thread}/children`) ?? "")
      .split(/\s+/)
      .filter((text) => text !== "")
      .map(Number),
  );
}

/** Whether descendants can be observed here. */
export const CAN_SAMPLE_DESCENDANTS = process.platform === "linux" && read(`/proc/${process.pid}/status`) !== undefined;

/**
 * Samples every descendant of `pid` every `intervalMs` until stopped; `stop()` returns each one's
 * peak (KiB) as last seen. A process that grows in its last interval before it exits is read a
 * little low; workers reach their peak while working, not while exiting.
 */
export function sampleDescendants(pid: number, intervalMs = 20): { stop(): Map<number, number> } {
  const peaks = new Map<number, number>();
  const sample = () => {
    const pending = childrenOf(pid);
    for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
      const peak = parseVmHwm(read(`/proc/${next}/status`) ?? "");
      if (peak !== undefined) peaks.set(next, Math.max(peaks.get(next) ?? 0, peak));
      pending.push(...childrenOf(next));
    }
  };
  const timer = CAN_SAMPLE_DESCENDANTS ? setInterval(sample, intervalMs) : undefined;
  return {
    stop: () => {
      if (timer !== undefined) {
        clearInterval(timer);
        sample();
      }
      return peaks;
    },
  };
}

/** "61 MiB", "61 MiB (+12)" over its idle size, and "+ 4 × 58 MiB" for the processes it started. */
export function formatRss(rss: PeakRss | undefined): string {
  if (rss === undefined) return "-";
  const mib = (kib: number) => Math.round(kib / 1024);
  const self = `${mib(rss.selfKiB)} MiB${rss.idleKiB === undefined ? "" : ` (+${Math.max(0, mib(rss.selfKiB) - mib(rss.idleKiB))})`}`;
  return rss.children === 0 ? self : `${self} + ${rss.children} × ${mib(rss.childMaxKiB)} MiB`;
}

/** This process's resident set now, in KiB. */
export function rssNowKiB(): number {
  return Math.round(process.memoryUsage.rss() / 1024);
}

/** The method, for the header of the results. */
export const RSS_METHOD =
  "Peak RSS: every variant of a throughput scenario runs in a Node process of its own (started before its first round, kept for all its rounds), so that no variant's memory counts against another; " +
  "its figure is that process's high-water mark from the kernel (getrusage maxrss), over all rounds. " +
  '"(+N)" is how far it grew above its size when ready (its modules loaded, nothing run yet). ' +
  '"+ K × M MiB": the variant started K processes of its own, the largest peaking at M, read from /proc/PID/status VmHWM every 20 ms' +
  (CAN_SAMPLE_DESCENDANTS ? "" : " (not measured on this platform)") +
  ". The processes of the latency, mixed and scale scenarios report their own maxrss.";
