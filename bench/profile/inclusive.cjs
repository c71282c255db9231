const fs = require("fs");
const dir = process.argv[2];
const f = fs.readdirSync(dir)[0];
const p = JSON.parse(fs.readFileSync(dir + "/" + f));
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of p.nodes) for (const c of n.children || []) parent.set(c, n.id);
const counts = new Map();
for (const s of p.samples) counts.set(s, (counts.get(s) || 0) + 1);
const total = p.samples.length;
const incl = new Map();
for (const [id, c] of counts) {
  const seen = new Set();
  let cur = id;
  while (cur !== undefined) {
    const n = byId.get(cur);
    const k = n.callFrame.functionName + " " + n.callFrame.url.split("/").slice(-2).join("/");
    if (!seen.has(k)) {
      seen.add(k);
      incl.set(k, (incl.get(k) || 0) + c);
    }
    cur = parent.get(cur);
  }
}
const want = process.argv.slice(3);
[...incl]
  .filter(([k]) => want.some((w) => k.startsWith(w + " ")))
  .sort((a, b) => b[1] - a[1])
  .forEach(([k, c]) => console.log(((c / total) * 100).toFixed(1) + "%", k));
