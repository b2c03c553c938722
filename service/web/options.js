// The service's option vocabulary, read once from GET /api/options (the options document derived
// from the one spec in service/imaging/options.py). Formats, which options each format takes,
// their ranges, choices and defaults, the browser's preselected values (ui_defaults, ui_grid) and
// the limits all come from there (the width domains are already bounded by MAX_OUTPUT_DIMENSION);
// this module only turns the document into what the pages ask.

import { t } from "./i18n.js";
import { apiFetch } from "./apikey.js";

const GROUP_ENCODER = "encoder";

/**
 * Fetch the options document (retried briefly: the page is useless without it; with API keys on,
 * it waits for the key to be entered). Resolves an OptionSpec.
 */
export async function loadOptions() {
  let last = null;
  for (let attempt = 0; attempt < 4; attempt++) {
    try {
      const res = await apiFetch("/api/options", { headers: { Accept: "application/json" } });
      if (res.ok) return new OptionSpec(await res.json());
      last = new Error(`GET /api/options answered ${res.status}`);
    } catch (err) {
      last = err;
    }
    await new Promise((resolve) => setTimeout(resolve, 500 * (attempt + 1)));
  }
  document.body.dataset.ready = "failed";
  const box = document.getElementById("error");
  if (box) {
    box.textContent = t("error.options");
    box.hidden = false;
  }
  throw last;
}

export class OptionSpec {
  constructor(doc) {
    this.doc = doc;
    this.formats = doc.formats.map((f) => ({ id: f.name, ext: f.extension, mime: f.media_type, alpha: Boolean(f.alpha) }));
    this.byName = new Map(doc.options.map((o) => [o.name, o]));
    this.limits = doc.limits || {};
  }

  formatInfo(id) {
    return this.formats.find((f) => f.id === id) || this.formats[0];
  }

  hasFormat(id) {
    return this.formats.some((f) => f.id === id);
  }

  /** The domain of option name for format fmt, or null when the option does not apply to it. */
  domain(name, fmt) {
    const opt = this.byName.get(name);
    if (!opt) return null;
    return opt.domains.find((d) => !d.formats || d.formats.includes(fmt)) || null;
  }

  /** The domain of a format-independent option (geometry: width, fit, ...). */
  anyDomain(name) {
    const opt = this.byName.get(name);
    return opt && opt.domains.length ? opt.domains[0] : null;
  }

  /** The encoder options of a format, in the document's order: [{name, description, domain}]. */
  encoderOptions(fmt) {
    const out = [];
    for (const opt of this.doc.options) {
      if (opt.group !== GROUP_ENCODER) continue;
      const domain = this.domain(opt.name, fmt);
      if (domain) out.push({ name: opt.name, description: opt.description, domain });
    }
    return out;
  }

  /** What the browser preselects: ui_defaults first, then the API's own default for the format. */
  uiDefault(fmt, name) {
    const ui = (this.doc.ui_defaults || {})[fmt] || {};
    if (name in ui) return ui[name];
    const domain = this.domain(name, fmt);
    return domain ? domain.default ?? null : null;
  }

  /**
   * Whether a domain means something with these panel values: any one of its `when` conditions
   * holds, each naming options whose value (the API default when not in values) is one of a list.
   */
  applies(domain, fmt, values) {
    const when = (domain && domain.when) || [];
    if (!when.length) return Boolean(domain);
    return when.some((condition) =>
      Object.entries(condition).every(([name, allowed]) => {
        const own = this.domain(name, fmt);
        const value = name in values ? values[name] : own ? own.default : null;
        return allowed.some((a) => String(a) === String(value));
      }),
    );
  }

  /** The quality domain of a format, or null when the API takes no quality for it. */
  quality(fmt) {
    return this.domain("quality", fmt);
  }

  /** The format a page starts with: the API's default format, else the first the service offers. */
  firstFormat() {
    const wanted = this.anyDomain("format")?.default;
    return this.hasFormat(wanted) ? wanted : this.formats[0].id;
  }

  /** The batch page's grid: preselected widths and qualities, and how many of each it offers. */
  grid() {
    return this.doc.ui_grid;
  }

  /** Whether the service knows an option (score, max_bytes, ... arrive with newer services). */
  has(name) {
    return this.byName.has(name);
  }

  choices(name) {
    const d = this.anyDomain(name);
    return d && d.choices ? d.choices : [];
  }
}
