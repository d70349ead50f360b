// Draws benchmark/chart.svg from bench-results/*.json: one bar per case, rampart's speed (or
// memory) against the best peer, on a log scale around 1 (right and green: rampart is ahead;
// left and red: it is behind). `npm run bench -- --write-docs` runs it after the suites.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'

const ORDER = ['password', 'aead', 'jwt', 'ratelimit', 'redact', 'http']
const results = ORDER.map((name) => new URL(`../bench-results/${name}.json`, import.meta.url))
  .filter((file) => existsSync(file))
  .map((file) => JSON.parse(readFileSync(file, 'utf8')))
const rows = results.flatMap((r) => r.ratios.filter((x) => Number.isFinite(x.ratio) && x.ratio > 0))
if (rows.length === 0) throw new Error('no results in bench-results/; run npm run bench first')

const escape = (text) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
const LABEL_W = 330
const BAR_H = 18
const GAP = 6
const TOP = 46
const SPAN = 6 // log2 range on each side: 1/64x to 64x
const PLOT_W = 520
const centre = LABEL_W + PLOT_W / 2
const x = (ratio) => centre + (Math.max(-SPAN, Math.min(SPAN, Math.log2(ratio))) / SPAN) * (PLOT_W / 2)
const height = TOP + rows.length * (BAR_H + GAP) + 30

const parts = [
  `<svg xmlns="http://www.w3.org/2000/svg" width="${LABEL_W + PLOT_W + 70}" height="${height}" font-family="sans-serif" font-size="12">`,
  `<rect width="100%" height="100%" fill="white"/>`,
  `<text x="10" y="18" font-size="14" font-weight="bold">rampart vs the best peer library (log scale; right of 1x = rampart ahead)</text>`,
  `<text x="10" y="34" fill="#555">${escape(results[0].date)}</text>`,
]
for (const tick of [1 / 16, 1 / 4, 1, 4, 16]) {
  const tx = x(tick)
  parts.push(`<line x1="${tx}" y1="${TOP - 4}" x2="${tx}" y2="${height - 24}" stroke="${tick === 1 ? '#333' : '#ddd'}"/>`)
  parts.push(`<text x="${tx}" y="${height - 10}" text-anchor="middle" fill="#555">${tick >= 1 ? tick : `1/${1 / tick}`}x</text>`)
}
rows.forEach((row, i) => {
  const y = TOP + i * (BAR_H + GAP)
  const end = x(row.ratio)
  const ahead = row.ratio >= 1
  parts.push(`<text x="${LABEL_W - 8}" y="${y + 13}" text-anchor="end">${escape(row.label)}</text>`)
  parts.push(`<rect x="${Math.min(centre, end)}" y="${y}" width="${Math.max(1, Math.abs(end - centre))}" height="${BAR_H}" fill="${ahead ? '#2e7d32' : '#c62828'}"/>`)
  const value = row.ratio >= 10 ? row.ratio.toFixed(0) : row.ratio.toFixed(2)
  parts.push(`<text x="${ahead ? end + 4 : end - 4}" y="${y + 13}" text-anchor="${ahead ? 'start' : 'end'}">${value}x</text>`)
})
parts.push('</svg>')
writeFileSync(new URL('./chart.svg', import.meta.url), `${parts.join('\n')}\n`)
console.error(`benchmark/chart.svg: ${rows.length} bars`)
