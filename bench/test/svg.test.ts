import { describe, expect, it } from "vitest";
import { type ChartGroup, escapeXml, renderChart, truncate } from "../src/svg.js";

/**
 * A small XML well-formedness check: every tag closes in order, attribute values are quoted, and
 * text holds no bare "<" or "&" outside an entity. Returns the elements in document order.
 */
function parseXml(xml: string): { name: string; attributes: Record<string, string>; text: string }[] {
  const elements: { name: string; attributes: Record<string, string>; text: string }[] = [];
  const open: { name: string; text: string; index: number }[] = [];
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/y;
  let position = 0;
  while (position < xml.length) {
    const next = xml.indexOf("<", position);
    const text = xml.slice(position, next === -1 ? xml.length : next);
    if (/&(?!(?:amp|lt|gt|quot|apos);)/.test(text)) throw new Error(`bare & in ${JSON.stringify(text)}`);
    const parent = open[open.length - 1];
    if (parent !== undefined) parent.text += text;
    else if (text.trim() !== "") throw new Error(`text outside the root: ${JSON.stringify(text)}`);
    if (next === -1) break;
    tag.lastIndex = next;
    const match = tag.exec(xml);
    if (match === null) throw new Error(`malformed tag at ${next}: ${JSON.stringify(xml.slice(next, next + 60))}`);
    const [whole, closing, name = "", attributeText = "", selfClosing] = match;
    if (closing === "/") {
      const top = open.pop();
      if (top?.name !== name) throw new Error(`</${name}> closes <${top?.name}>`);
      (elements[top.index] as { text: string }).text = top.text;
    } else {
      const attributes = Object.fromEntries([...attributeText.matchAll(/([\w:-]+)="([^"]*)"/g)].map((pair) => [pair[1], pair[2]]));
      elements.push({ name, attributes, text: "" });
      if (selfClosing !== "/") open.push({ name, text: "", index: elements.length - 1 });
      else if (open.length === 0 && elements.length > 1) throw new Error("a second root");
    }
    position = next + whole.length;
  }
  if (open.length > 0) throw new Error(`unclosed <${open.map((element) => element.name).join("> <")}>`);
  return elements;
}

const groups: ChartGroup[] = [
  {
    title: "Enqueue",
    unit: "tasks/s",
    bars: [
      { label: "raw: one INSERT per transaction", value: 15_000, ratio: 1, kind: "reference" },
      { label: "enqueue(), 1,000 in flight", value: 100_000, ratio: 6.67, kind: "queue" },
      { label: 'peer <x> & "y"', value: 4_000, ratio: 0.27, kind: "peer" },
      { label: "a peer that cannot run", value: 0, ratio: 0, kind: "peer", notRun: "needs <Redis> & more" },
    ],
  },
  {
    title: "Process",
    unit: "tasks/s",
    bars: [
      { label: "raw: claim + complete", value: 40_000, ratio: 1, kind: "reference" },
      { label: "1 worker process", value: 20_000, ratio: 0.5, kind: "queue" },
    ],
  },
];

describe("renderChart", () => {
  it("writes a well-formed SVG with one bar per variant that ran, labelled with its figure and ratio", () => {
    const svg = renderChart(groups, { title: "Throughput", subtitle: "2026-01-01 & friends" });
    const elements = parseXml(svg);
    expect(elements[0]?.name).toBe("svg");
    const bars = elements.filter((element) => element.name === "rect" && element.attributes.class?.startsWith("bar "));
    expect(bars).toHaveLength(5);
    expect(bars.map((bar) => bar.attributes.class)).toEqual(["bar reference", "bar queue", "bar peer", "bar reference", "bar queue"]);
    const texts = elements.filter((element) => element.name === "text").map((element) => element.text);
    expect(texts).toContain("100,000 tasks/s · 6.67x");
    expect(texts).toContain("20,000 tasks/s · 0.50x");
    expect(texts).toContain("Enqueue (tasks/s)");
  });

  it("scales bars within each scenario: the largest figure gets the full width", () => {
    const elements = parseXml(renderChart(groups, { title: "t", subtitle: "s" }));
    const widths = elements
      .filter((element) => element.name === "rect" && element.attributes.class?.startsWith("bar "))
      .map((bar) => Number(bar.attributes.width));
    expect(widths[1]).toBe(400);
    expect(widths[0]).toBeCloseTo(60, 1);
    expect(widths[3]).toBe(400);
    expect(widths[4]).toBe(200);
  });

  it("escapes labels and notes, and draws a variant that was not run as a note instead of a bar", () => {
    const svg = renderChart(groups, { title: "t", subtitle: "s" });
    expect(svg).toContain("peer &lt;x&gt; &amp; &quot;y&quot;");
    expect(svg).not.toContain('peer <x> & "y"');
    const texts = parseXml(svg)
      .filter((element) => element.name === "text")
      .map((element) => element.text);
    expect(texts).toContain("not run: needs &lt;Redis&gt; &amp; more");
  });

  it("draws an empty chart for no scenarios", () => {
    const elements = parseXml(renderChart([], { title: "nothing", subtitle: "" }));
    expect(elements.filter((element) => element.name === "rect" && element.attributes.class?.startsWith("bar "))).toEqual([]);
  });
});

describe("escapeXml", () => {
  it("replaces the five characters XML reserves", () => {
    expect(escapeXml(`<a href="x">Tom & 'Jerry'</a>`)).toBe("&lt;a href=&quot;x&quot;&gt;Tom &amp; &apos;Jerry&apos;&lt;/a&gt;");
  });
});

describe("truncate", () => {
  it("cuts long text to the given length with an ellipsis, and leaves short text alone", () => {
    expect(truncate("short", 10)).toBe("short");
    expect(truncate("a long variant name", 10)).toBe("a long va…");
    expect(truncate("a long variant name", 10)).toHaveLength(10);
  });
});
