// The per-format encoder option panels, rendered from the service's options document
// (options.js). Which options a format takes, their ranges, choices and defaults come from the
// service; this module keeps only what is presentation: labels (i18n keys) and which control
// hides another (a choice the user made elsewhere in the same panel makes it meaningless).

import { t } from "./i18n.js";

const FORMAT_LABELS = { jpeg: "JPEG", png: "PNG", webp: "WebP", avif: "AVIF", tiff: "TIFF" };

// Translation keys of the choices of each option ("" is "the encoder's default": not sent).
const CHOICE_KEYS = { quant_table: "qt.", chroma_subsampling: "cs.", bitdepth: "bd.", compression: "tiff.", predictor: "pred." };
// Options whose label differs by format.
const LABEL_KEYS = { "png.compression": "opt.compression.png", "png.effort": "opt.effort.png" };
const HINT_KEYS = { alpha_quality: "opt.alpha_quality.hint" };
// Targets and measurements, not encoder settings: whatever group the service files them under,
// they are not per-format panel controls (the batch page asks for the score itself).
const NOT_PANEL = new Set(["score", "max_bytes", "min_score"]);
const KINDS = new Set(["int", "bool", "choice"]);
// Whole numbers shown as a list of named choices rather than a slider.
const INT_AS_CHOICES = new Set(["quant_table"]);

export function formatLabel(id) {
  return FORMAT_LABELS[id] || String(id).toUpperCase();
}

/** Whether the quality slider means anything for this format and these options (the spec's `when`). */
export function qualityApplies(spec, format, v) {
  return spec.applies(spec.quality(format), format, v);
}

/** The quality a format starts with: the browser's preselection, else the API's default (null: none). */
export function defaultQuality(spec, format) {
  const q = spec.uiDefault(format, "quality");
  return q == null ? null : Number(q);
}

/** A choice in the user's words: its translation when there is one, else the value itself. */
function choiceText(choiceKey, value) {
  const key = choiceKey + value;
  const text = t(key);
  return text === key ? value : text;
}

/** Fill a <select> with the service's output formats. */
export function fillFormatSelect(select, spec) {
  select.replaceChildren(...spec.formats.map((f) => new Option(formatLabel(f.id), f.id)));
}

/** How an option is shown: {kind: bool|range|select, choices, min, max, def}. */
function control(spec, fmt, { name, domain }) {
  const ui = spec.uiDefault(fmt, name);
  const choiceKey = CHOICE_KEYS[name];
  if (domain.type === "bool") return { kind: "bool", def: Boolean(ui) };
  let choices = domain.choices ? domain.choices.map(String) : null;
  if (!choices && domain.type === "int" && INT_AS_CHOICES.has(name)) {
    choices = [];
    for (let i = domain.minimum; i <= domain.maximum; i++) choices.push(String(i));
  }
  if (choices) {
    if (ui == null) choices = ["", ...choices]; // no preselection: leave it to the encoder
    const apiDefault = domain.default == null ? "" : String(domain.default);
    return { kind: "select", choices, def: ui == null ? "" : String(ui), choiceKey: choiceKey || `${name}.`, apiDefault };
  }
  const def = ui == null ? domain.minimum : Number(ui);
  return { kind: "range", min: domain.minimum, max: domain.maximum, def };
}

/**
 * Build one <fieldset> per format inside container; only the chosen format's is visible.
 * onChange() is called after any option changes. Returns {show, read, visible, readAll, write}.
 */
export function renderOptionPanels(container, idPrefix, spec, onChange) {
  const panels = {};
  const inputs = {};
  for (const fmt of spec.formats) {
    const fs = document.createElement("fieldset");
    fs.className = "format-options";
    fs.dataset.format = fmt.id;
    fs.hidden = true;
    const legend = document.createElement("legend");
    legend.dataset.i18n = "opt.advanced";
    legend.dataset.i18nParams = JSON.stringify({ format: formatLabel(fmt.id) });
    legend.textContent = t("opt.advanced", { format: formatLabel(fmt.id) });
    fs.append(legend);
    inputs[fmt.id] = {};
    for (const option of spec.encoderOptions(fmt.id)) {
      if (NOT_PANEL.has(option.name) || !KINDS.has(option.domain.type)) continue;
      // Shown (and sent) only when the rest of the panel makes it mean something (the spec's `when`).
      const showIf = option.domain.when ? (v) => spec.applies(option.domain, fmt.id, v) : undefined;
      const opt = { name: option.name, showIf, ...control(spec, fmt.id, option) };
      const id = `${idPrefix}-${fmt.id}-${opt.name}`;
      const row = document.createElement("div");
      row.className = `field field-${opt.kind}`;
      row.dataset.option = opt.name;
      const label = document.createElement("label");
      label.htmlFor = id;
      const labelKey = LABEL_KEYS[`${fmt.id}.${opt.name}`] || `opt.${opt.name}`;
      const labelParams = { min: option.domain.minimum, max: option.domain.maximum }; // labels that state the range
      label.dataset.i18n = labelKey;
      label.dataset.i18nParams = JSON.stringify(labelParams);
      label.textContent = t(labelKey, labelParams);
      if (label.textContent === labelKey) { delete label.dataset.i18n; label.textContent = opt.name; } // a new option: its API name
      if (option.description) label.title = option.description;
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
          // The empty choice is the API's default: it names that value ("Default (0 · JPEG Annex K)").
          const params = c ? {} : { value: choiceText(opt.choiceKey, opt.apiDefault) };
          const text = t(key, params);
          const o = new Option(text === key ? c : text, c);
          if (text !== key) { o.dataset.i18n = key; o.dataset.i18nParams = JSON.stringify(params); }
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
      if (HINT_KEYS[opt.name]) {
        const hint = document.createElement("p");
        hint.className = "hint";
        hint.id = `${id}-hint`;
        hint.dataset.i18n = HINT_KEYS[opt.name];
        hint.textContent = t(HINT_KEYS[opt.name]);
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
    for (const { opt, input } of Object.values(inputs[format] || {})) {
      values[opt.name] = opt.kind === "bool" ? input.checked : opt.kind === "range" ? Number(input.value) : input.value;
    }
    return values;
  }

  function refresh(format) {
    const values = read(format);
    for (const { opt, row } of Object.values(inputs[format] || {})) {
      row.hidden = opt.showIf ? !opt.showIf(values) : false;
    }
  }

  function defaults(format) {
    return Object.fromEntries(Object.values(inputs[format] || {}).map(({ opt }) => [opt.name, opt.def]));
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
        Object.values(inputs[format] || {})
          .filter(({ opt }) => !opt.showIf || opt.showIf(values))
          .map(({ opt }) => [opt.name, values[opt.name]]),
      );
    },
    readAll() {
      return Object.fromEntries(spec.formats.map((f) => [f.id, read(f.id)]));
    },
    /** Set every panel from stored values; anything missing or out of range takes the service's default. */
    write(all) {
      for (const fmt of spec.formats) {
        const values = { ...defaults(fmt.id), ...((all && all[fmt.id]) || {}) };
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
