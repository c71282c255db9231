const fs = require("fs");
const dir = process.argv[2];
const f = fs.readdirSync(dir)[0];
const p = JSON.parse(fs.readFileSync(dir + "/" + f));
const total = p.samples.length;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const counts = new Map();
for (const s of p.samples) {
  counts.set(s, (counts.get(s) || 0) + 1);
}
const self = new Map();
for (const [id, c] of counts) {
  const n = byId.get(id);
  const k = n.callFrame.functionName + " " + n.callFrame.url.split("/").slice(-2).join("/") + ":" + n.callFrame.lineNumber;
  self.set(k, (self.get(k) || 0) + c);
}
[...self]
  .sort((a, b) => b[1] - a[1])
  .slice(0, Number(process.argv[3] || 20))
  .forEach(([k, c]) => console.log(((c / total) * 100).toFixed(1) + "%", k));
