// A bar chart of the throughput scenarios as a standalone SVG string, written by hand: one group
// per scenario, one horizontal bar per variant, each labelled with its figure and its ratio to the
// scenario's reference (the raw SQLite limit, or the in-memory baseline). Bars are scaled per
// group, since the scenarios measure different things.

export type BarKind = "reference" | "queue" | "peer";

export interface ChartBar {
  readonly label: string;
  /** Operations per second (median); ignored when `notRun` is set. */
  readonly value: number;
  /** Median over the reference's median. */
  readonly ratio: number;
  readonly kind: BarKind;
  /** Why the variant was not run; drawn as a note instead of a bar. */
  readonly notRun?: string;
}

export interface ChartGroup {
  readonly title: string;
  readonly unit: string;
  readonly bars: readonly ChartBar[];
}

export interface ChartOptions {
  readonly title: string;
  readonly subtitle: string;
}

const WIDTH = 1040;
const LABEL_WIDTH = 420;
/** Characters that fit: a variant's name left of the bars, a note right of them. */
const LABEL_CHARACTERS = 66;
const NOTE_CHARACTERS = 100;
const BAR_MAX = 400;
const ROW = 22;
const BAR_HEIGHT = 15;
const GROUP_TITLE = 26;
const GROUP_GAP = 14;
const HEADER = 70;
const COLORS: Record<BarKind, string> = { reference: "#8a8f98", queue: "#2f6fdb", peer: "#e08a1e" };
const LEGEND: Record<BarKind, string> = { reference: "reference (raw SQLite or in-memory)", queue: "this queue", peer: "peer queue" };

/** Text made safe for XML content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&${{ "&": "amp", "<": "lt", ">": "gt", '"': "quot", "'": "apos" }[character]};`);
}

/** `text` cut to `max` characters, with an ellipsis when cut (the Markdown has the whole text). */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1).trimEnd()}…`;
}

function number(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}

function text(x: number, y: number, content: string, attributes = ""): string {
  return `<text x="${x}" y="${y}"${attributes === "" ? "" : ` ${attributes}`}>${escapeXml(content)}</text>`;
}

export function renderChart(groups: readonly ChartGroup[], options: ChartOptions): string {
  const body: string[] = [];
  let y = HEADER;
  for (const group of groups) {
    body.push(text(16, y + 16, `${group.title} (${group.unit})`, 'class="group"'));
    y += GROUP_TITLE;
    const largest = Math.max(0, ...group.bars.filter((bar) => bar.notRun === undefined).map((bar) => bar.value));
    for (const bar of group.bars) {
      const middle = y + ROW / 2 + 4;
      body.push(text(LABEL_WIDTH - 8, middle, truncate(bar.label, LABEL_CHARACTERS), 'class="label" text-anchor="end"'));
      if (bar.notRun !== undefined) {
        body.push(text(LABEL_WIDTH, middle, truncate(`not run: ${bar.notRun}`, NOTE_CHARACTERS), 'class="note"'));
      } else {
        const length = largest > 0 ? Math.max(1, (bar.value / largest) * BAR_MAX) : 1;
        body.push(
          `<rect class="bar ${bar.kind}" x="${LABEL_WIDTH}" y="${y + (ROW - BAR_HEIGHT) / 2}" width="${length.toFixed(1)}" height="${BAR_HEIGHT}" fill="${COLORS[bar.kind]}"/>`,
          text(LABEL_WIDTH + length + 6, middle, `${number(bar.value)} ${group.unit} · ${bar.ratio.toFixed(2)}x`, 'class="value"'),
        );
      }
      y += ROW;
    }
    y += GROUP_GAP;
  }
  const legend = (Object.keys(COLORS) as BarKind[]).map((kind, index) => {
    const x = 16 + index * 300;
    return `<rect x="${x}" y="46" width="12" height="12" fill="${COLORS[kind]}"/>${text(x + 18, 56, LEGEND[kind], 'class="note"')}`;
  });
  const height = y + 8;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="12">`,
    "<style>.title{font-size:16px;font-weight:600}.group{font-weight:600}.note{fill:#555}.value{fill:#222}.label{fill:#222}</style>",
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    text(16, 22, options.title, 'class="title"'),
    text(16, 40, options.subtitle, 'class="note"'),
    ...legend,
    ...body,
    "</svg>",
    "",
  ].join("\n");
}
