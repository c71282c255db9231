import { describe, expect, it } from "vitest";
import { printable, printableValue, terminalSafeJson } from "../src/terminal-text.js";

describe("printable", () => {
  it("shows control characters escaped, so handler text cannot break a line or drive the terminal", () => {
    expect(printable("boom\n\u001b[31mred\u0007")).toBe("boom\\n\\u001b[31mred\\u0007");
    expect(printable("plain text, ünïcödé ✓")).toBe("plain text, ünïcödé ✓");
  });
});

describe("what reaches the terminal", () => {
  it("escapes DEL, the C1 controls (8-bit CSI included), separators and bidirectional controls", () => {
    expect(printable("a\u009b31mb\u007fc\u0085d\u202ee\u2028f")).toBe("a\\u009b31mb\\u007fc\\u0085d\\u202ee\\u2028f");
  });

  it("escapes every string inside a value, keeping line breaks, dates and numbers", () => {
    const at = new Date(0);
    const value = printableValue({ type: "x\u009b2J", nested: [{ message: "one\ntwo\u001b]0;title\u0007" }], at, n: 1 });
    expect(value).toEqual({ type: "x\\u009b2J", nested: [{ message: "one\ntwo\\u001b]0;title\\u0007" }], at, n: 1 });
    expect(value.at).toBe(at);
  });

  it("leaves JSON the same value while writing what a terminal acts on as escapes", () => {
    const original = { s: "a\u009bb\u007f\u202e" };
    const json = terminalSafeJson(JSON.stringify(original));
    expect(json).not.toMatch(/[\u007f-\u009f\u202e]/u);
    expect(JSON.parse(json)).toEqual(original);
  });
});
