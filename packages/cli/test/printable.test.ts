import { describe, expect, it } from "vitest";
import { printable } from "../src/commands/inspect.js";

describe("printable", () => {
  it("shows control characters escaped, so handler text cannot break a line or drive the terminal", () => {
    expect(printable("boom\n\u001b[31mred\u0007")).toBe("boom\\n\\u001b[31mred\\u0007");
    expect(printable("plain text, ünïcödé ✓")).toBe("plain text, ünïcödé ✓");
  });
});
