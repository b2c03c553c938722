// The output formats and the encoder options the UI offers for each, in one table. Option names
// are the API's form-field names (docs/contract.md); both pages render their option panels from
// this table, so adding an option here adds it everywhere.

import { t } from "./i18n.js";

export const FORMATS = [
  { id: "jpeg", label: "JPEG", ext: "jpg", mime: "image/jpeg" },
  { id: "png", label: "PNG", ext: "png", mime: "image/png" },
  { id: "webp", label: "WebP", ext: "webp", mime: "image/webp" },
  { id: "avif", label: "AVIF", ext: "avif", mime: "image/avif" },
  { id: "tiff", label: "TIFF", ext: "tiff", mime: "image/tiff" },
];

// kind: bool (checkbox), range (slider with min/max), select (choices; "" means the encoder's
// default and is not sent). showIf(values): only shown (and sent) when true.
const SUBSAMPLING = ["auto", "4:2:0", "4:4:4"];

export const OPTIONS = {
  jpeg: [
    { name: "progressive", kind: "bool", def: true },
    { name: "optimize_scans", kind: "bool", def: false, showIf: (v) => v.progressive },
    { name: "trellis_quant", kind: "bool", def: false },
    { name: "overshoot_deringing", kind: "bool", def: false },
    { name: "optimize_coding", kind: "bool", def: true },
    { name: "quant_table", kind: "select", choices: ["", "0", "1", "2", "3", "4", "5", "6", "7", "8"], def: "", choiceKey: "qt." },
    { name: "chroma_subsampling", kind: "select", choices: SUBSAMPLING, def: "auto", choiceKey: "cs." },
  ],
  png: [
    { name: "compression", kind: "range", min: 0, max: 9, def: 6, labelKey: "opt.compression.png" },
    { name: "palette", kind: "bool", def: false },
    { name: "colors", kind: "range", min: 2, max: 256, def: 256, showIf: (v) => v.palette },
    { name: "effort", kind: "range", min: 1, max: 10, def: 7, showIf: (v) => v.palette, labelKey: "opt.effort.png" },
  ],
  webp: [
    { name: "lossless", kind: "bool", def: false },
    { name: "near_lossless", kind: "bool", def: false, showIf: (v) => v.lossless },
    { name: "effort", kind: "range", min: 0, max: 6, def: 4 },
    { name: "smart_subsample", kind: "bool", def: false, showIf: (v) => !v.lossless },
    { name: "alpha_quality", kind: "range", min: 0, max: 100, def: 100, hintKey: "opt.alpha_quality.hint" },
  ],
  avif: [
    { name: "lossless", kind: "bool", def: false },
    { name: "effort", kind: "range", min: 0, max: 9, def: 4 },
    { name: "chroma_subsampling", kind: "select", choices: SUBSAMPLING, def: "auto", choiceKey: "cs.", showIf: (v) => !v.lossless },
    { name: "bitdepth", kind: "select", choices: ["8", "10", "12"], def: "8", choiceKey: "bd." },
  ],
  tiff: [
    { name: "compression", kind: "select", choices: ["none", "lzw", "deflate", "jpeg", "zstd"], def: "lzw", choiceKey: "tiff." },
    { name: "predictor", kind: "select", choices: ["none", "horizontal", "float"], def: "horizontal", choiceKey: "pred.",
      showIf: (v) => ["lzw", "deflate", "zstd"].includes(v.compression) },
    { name: "tile", kind: "bool", def: false },
    { name: "pyramid", kind: "bool", def: false },
  ],
};

/** Whether the quality slider means anything for this format and these options. */
export function qualityApplies(format, v) {
  if (format === "png") return Boolean(v.palette); // a quality switches palette quantisation on
  if (format === "webp") return !v.lossless || Boolean(v.near_lossless); // near-lossless uses it
  if (format === "avif") return !v.lossless;
  if (format === "tiff") return v.compression === "jpeg";
  return true;
}

export function formatInfo(id) {
  return FORMATS.find((f) => f.id === id) || FORMATS[0];
}

export function defaultOptions() {
  const all = {};
  for (const [fmt, opts] of Object.entries(OPTIONS)) {
    all[fmt] = Object.fromEntries(opts.map((o) => [o.name, o.def]));
  }
  return all;
}

/** Fill a <select> with the formats. */
export function fillFormatSelect(select) {
  select.replaceChildren(...FORMATS.map((f) => new Option(f.label, f.id)));
}

/**
 * Build one <fieldset> per format inside container; only the chosen format's is visible.
 * onChange() is called after any option changes. Returns {show(format), read(format), write(all)}.
 */
export function renderOptionPanels(container, idPrefix, onChange) {
  const panels = {};
  const inputs = {};
  for (const fmt of FORMATS) {
    const fs = document.createElement("fieldset");
    fs.className = "format-options";
    fs.dataset.format = fmt.id;
    fs.hidden = true;
    const legend = document.createElement("legend");
    legend.dataset.i18n = "opt.advanced";
    legend.dataset.i18nParams = JSON.stringify({ format: fmt.label });
    legend.textContent = t("opt.advanced", { format: fmt.label });
    fs.append(legend);
    inputs[fmt.id] = {};
    for (const opt of OPTIONS[fmt.id]) {
      const id = `${idPrefix}-${fmt.id}-${opt.name}`;
      const row = document.createElement("div");
      row.className = `field field-${opt.kind}`;
      row.dataset.option = opt.name;
      const label = document.createElement("label");
      label.htmlFor = id;
      label.dataset.i18n = opt.labelKey || `opt.${opt.name}`;
      label.textContent = t(label.dataset.i18n);
      let input;
      if (opt.kind === "bool") {
        input = document.createElement("input");
        input.type = "checkbox";
        row.append(input, label);
      } else if (opt.kind === "range") {
        input = document.createElement("input");
        input.type = "range";
        input.min = opt.min;
        input.max = opt.max;
        input.step = 1;
        const out = document.createElement("output");
        out.htmlFor = id;
        out.className = "range-value";
        input.addEventListener("input", () => { out.value = input.value; });
        input._output = out;
        const head = document.createElement("div");
        head.className = "field-head";
        head.append(label, out);
        row.append(head, input);
      } else {
        input = document.createElement("select");
        for (const c of opt.choices) {
          const key = opt.choiceKey + (c || "default");
          const o = new Option(t(key), c);
          o.dataset.i18n = key;
          input.append(o);
        }
        row.append(label, input);
      }
      input.id = id;
      input.name = opt.name;
      input.setAttribute("data-testid", `opt-${fmt.id}-${opt.name}`);
      const err = document.createElement("p");
      err.className = "field-error";
      err.id = `${id}-error`;
      err.dataset.fieldError = opt.name;
      err.hidden = true;
      const describedBy = [err.id];
      if (opt.hintKey) {
        const hint = document.createElement("p");
        hint.className = "hint";
        hint.id = `${id}-hint`;
        hint.dataset.i18n = opt.hintKey;
        hint.textContent = t(opt.hintKey);
        row.append(hint);
        describedBy.unshift(hint.id);
      }
      input.setAttribute("aria-describedby", describedBy.join(" "));
      row.append(err);
      input.addEventListener(opt.kind === "range" ? "input" : "change", () => {
        refresh(fmt.id);
        onChange();
      });
      inputs[fmt.id][opt.name] = { opt, input, row };
      fs.append(row);
    }
    panels[fmt.id] = fs;
    container.append(fs);
  }

  function read(format) {
    const values = {};
    for (const { opt, input } of Object.values(inputs[format])) {
      values[opt.name] = opt.kind === "bool" ? input.checked : opt.kind === "range" ? Number(input.value) : input.value;
    }
    return values;
  }

  function refresh(format) {
    const values = read(format);
    for (const { opt, row } of Object.values(inputs[format])) {
      row.hidden = opt.showIf ? !opt.showIf(values) : false;
    }
  }

  return {
    show(format) {
      for (const [id, fs] of Object.entries(panels)) fs.hidden = id !== format;
      refresh(format);
    },
    /** The values of one format, as stored. */
    read,
    /** Only the options that are visible now: what goes to the API. */
    visible(format) {
      const values = read(format);
      return Object.fromEntries(
        Object.values(inputs[format])
          .filter(({ opt }) => !opt.showIf || opt.showIf(values))
          .map(({ opt }) => [opt.name, values[opt.name]]),
      );
    },
    readAll() {
      return Object.fromEntries(FORMATS.map((f) => [f.id, read(f.id)]));
    },
    write(all) {
      const defaults = defaultOptions();
      for (const fmt of FORMATS) {
        const values = { ...defaults[fmt.id], ...((all && all[fmt.id]) || {}) };
        for (const { opt, input } of Object.values(inputs[fmt.id])) {
          let v = values[opt.name];
          if (opt.kind === "select" && !opt.choices.includes(String(v))) v = opt.def; // settings from an older page
          if (opt.kind === "range" && !(Number(v) >= opt.min && Number(v) <= opt.max)) v = opt.def;
          if (opt.kind === "bool") input.checked = Boolean(v);
          else input.value = String(v);
          if (input._output) input._output.value = input.value;
        }
        refresh(fmt.id);
      }
    },
  };
}
