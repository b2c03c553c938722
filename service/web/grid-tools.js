// What the grid helps decide, as pure functions over its cells: the colour of a size, the best
// cell per width under a rule, and the HTML snippet for the chosen cells. A cell is
// {key, width (requested), quality, out: {name, width, height, bytes, score, format, state}}.

/** The finished outputs of the cells, one per distinct file. */
export function doneCells(cells) {
  return cells.filter((c) => c.out && c.out.state === "done" && Number.isFinite(c.out.bytes));
}

/** 0 (smallest of the grid) .. 1 (largest), on a log scale: sizes span orders of magnitude. */
export function sizeRank(bytes, all) {
  const logs = all.filter((b) => b > 0).map(Math.log);
  if (!logs.length || !(bytes > 0)) return 0;
  const lo = Math.min(...logs);
  const hi = Math.max(...logs);
  return hi > lo ? (Math.log(bytes) - lo) / (hi - lo) : 0;
}

/**
 * The best cell of each requested width. mode "score": the smallest file whose score reaches
 * value (ties: the higher score). mode "bytes": the highest score within value bytes (ties: the
 * smaller file); without scores, the highest quality. Returns Map(width -> cell or null).
 */
export function pickBest(cells, mode, value) {
  const byWidth = new Map();
  for (const c of cells) if (!byWidth.has(c.width)) byWidth.set(c.width, []);
  for (const c of doneCells(cells)) byWidth.get(c.width).push(c);
  const picks = new Map();
  for (const [width, list] of byWidth) {
    let best = null;
    for (const c of list) {
      const score = c.out.score;
      if (mode === "score") {
        if (score == null || score < value) continue;
        if (!best || c.out.bytes < best.out.bytes || (c.out.bytes === best.out.bytes && score > best.out.score)) best = c;
      } else {
        if (c.out.bytes > value) continue;
        const merit = score ?? c.quality ?? 0;
        const bestMerit = best ? best.out.score ?? best.quality ?? 0 : -Infinity;
        if (!best || merit > bestMerit || (merit === bestMerit && c.out.bytes < best.out.bytes)) best = c;
      }
    }
    picks.set(width, best);
  }
  return picks;
}

function escapeAttr(text) {
  return String(text).replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
}

/** A <picture>/srcset snippet for the chosen cells (one format), with each file's name and size. */
export function pictureSnippet(chosen, { mime, alt = "" } = {}) {
  const files = [];
  const seen = new Set();
  for (const c of [...chosen].sort((a, b) => a.out.width - b.out.width)) {
    if (seen.has(c.out.name)) continue;
    seen.add(c.out.name);
    files.push(c.out);
  }
  if (!files.length) return "";
  const srcset = files.map((o) => `${o.name} ${o.width}w`).join(",\n               ");
  const largest = files[files.length - 1];
  const sizes = `(max-width: ${largest.width}px) 100vw, ${largest.width}px`;
  const lines = ["<picture>"];
  if (mime && mime !== "image/jpeg" && mime !== "image/png") {
    lines.push(`  <source type="${mime}"\n          srcset="${srcset}"\n          sizes="${sizes}">`);
  }
  lines.push(`  <img src="${escapeAttr(largest.name)}"\n       srcset="${srcset}"\n       sizes="${sizes}"`);
  lines.push(`       width="${largest.width}" height="${largest.height}" alt="${escapeAttr(alt)}" loading="lazy" decoding="async">`);
  lines.push("</picture>");
  lines.push("<!-- files:");
  for (const o of files) lines.push(`     ${o.name}  ${o.width}x${o.height}  ${o.bytes} bytes${o.score != null ? `  score ${o.score.toFixed(4)}` : ""}`);
  lines.push("-->");
  return lines.join("\n");
}
