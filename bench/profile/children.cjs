const fs = require("fs");
const dir = process.argv[2];
const target = process.argv[3];
const f = fs.readdirSync(dir)[0];
const p = JSON.parse(fs.readFileSync(dir + "/" + f));
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const counts = new Map();
for (const s of p.samples) counts.set(s, (counts.get(s) || 0) + 1);
const total = p.samples.length;
const sub = (id) => {
  const n = byId.get(id);
  let c = counts.get(id) || 0;
  for (const ch of n.children || []) c += sub(ch);
  return c;
};
const agg = new Map();
let selfTotal = 0;
for (const n of p.nodes) {
  if (n.callFrame.functionName !== target) continue;
  selfTotal += counts.get(n.id) || 0;
  for (const ch of n.children || []) {
    const cn = byId.get(ch);
    const k = cn.callFrame.functionName + " " + cn.callFrame.url.split("/").slice(-2).join("/") + ":" + cn.callFrame.lineNumber;
    agg.set(k, (agg.get(k) || 0) + sub(ch));
  }
}
console.log("self", ((selfTotal / total) * 100).toFixed(1) + "%");
[...agg]
  .sort((a, b) => b[1] - a[1])
  .slice(0, 12)
  .forEach(([k, c]) => console.log(((c / total) * 100).toFixed(1) + "%", k));
