export type CheckStatus = "pass" | "warn" | "fail";

/** One check's verdict: what was found and, unless it passed, what to do about it. */
export interface CheckResult {
  readonly name: string;
  readonly status: CheckStatus;
  readonly message: string;
  readonly hint?: string;
  readonly durationMs: number;
}

export interface ValidationReport {
  readonly path: string;
  readonly at: string;
  /** The worst status of any check. */
  readonly status: CheckStatus;
  readonly checks: readonly CheckResult[];
}

const RANK: Record<CheckStatus, number> = { pass: 0, warn: 1, fail: 2 };

export function worstStatus(results: readonly { readonly status: CheckStatus }[]): CheckStatus {
  return results.reduce<CheckStatus>((worst, result) => (RANK[result.status] > RANK[worst] ? result.status : worst), "pass");
}

/** The report as aligned text, one line per check with its hint beneath. */
export function formatReport(report: ValidationReport): string {
  const mark: Record<CheckStatus, string> = { pass: "PASS", warn: "WARN", fail: "FAIL" };
  const width = Math.max(...report.checks.map((check) => check.name.length), 4);
  const lines = [`Queue validation of ${report.path} at ${report.at}: ${mark[report.status]}`, ""];
  for (const check of report.checks) {
    lines.push(`${mark[check.status]}  ${check.name.padEnd(width)}  ${check.message}`);
    if (check.hint !== undefined && check.status !== "pass") lines.push(`      ${" ".repeat(width)}  hint: ${check.hint}`);
  }
  const counts = (status: CheckStatus) => report.checks.filter((check) => check.status === status).length;
  lines.push("", `${counts("pass")} passed, ${counts("warn")} warned, ${counts("fail")} failed`);
  return `${lines.join("\n")}\n`;
}
