// How both pages start, in one place. First what works without the service: translations, the
// language switch and the API key field (the options document itself may need the key). Then
// GET /api/options, once, and from it what both pages show alike: the format list, the encoder
// option panels, the limits the page states, error display, the settings both pages keep (format,
// enlarge, keep_metadata, the panels) and the original's facts. The page module (app.js, batch.js)
// keeps only its own controls and work, and calls ready() when it has applied its settings.
//
// Nothing here or in the page modules declares a range, a default, a choice or a limit: they are
// read from the options document (options.js), so a setting changed on the service (say
// MAX_OUTPUT_DIMENSION) reaches every control and check of both pages.

import { applyTranslations, bindLanguageSwitch, onLangChange, t } from "./i18n.js";
import { setupApiKey } from "./apikey.js";
import { loadOptions } from "./options.js";
import { fillFormatSelect, renderOptionPanels } from "./formats.js";
import { ErrorView, bindDropzone, bindFileSources, loadSettings, sizeText } from "./common.js";

const $ = (id) => document.getElementById(id);

/**
 * Start the page. panelPrefix names the ids of its option panel controls; onChange() runs after
 * any panel control changes. Resolves a Page once the options document is applied; rejects (with
 * the reason on screen, body[data-ready=failed]) when the service could not give it.
 */
export async function startPage({ panelPrefix, onChange }) {
  applyTranslations();
  setupApiKey();
  const select = $("lang");
  if (select) bindLanguageSwitch(select);
  const spec = await loadOptions();
  return new Page(spec, panelPrefix, onChange);
}

/** Bytes as the service's limits are stated (decimal units, as in MAX_UPLOAD_BYTES=25000000). */
function limitText(bytes) {
  if (bytes >= 1e6) return `${Number((bytes / 1e6).toFixed(1))} MB`;
  return `${Number((bytes / 1e3).toFixed(1))} KB`;
}

class Page {
  constructor(spec, panelPrefix, onChange) {
    this.spec = spec;
    this.format = $("format");
    this.enlarge = $("enlarge");
    this.keepMetadata = $("keep_metadata");
    fillFormatSelect(this.format, spec);
    this.errors = new ErrorView($("error"));
    this.panels = renderOptionPanels($("format-options"), panelPrefix, spec, onChange);
    this.facts = new OriginalFacts();
    this.showLimits();
  }

  /** The limits the page states in its text, filled in (and kept on language switches). */
  showLimits() {
    for (const hint of document.querySelectorAll('[data-i18n="file.hint"]')) {
      hint.dataset.i18n = "file.hint_max";
      hint.dataset.i18nParams = JSON.stringify({ max: limitText(this.spec.limits.max_upload_bytes) });
    }
    applyTranslations();
  }

  /** What both pages keep alike, as the service preselects it for its default format. */
  sharedDefaults() {
    const format = this.spec.firstFormat();
    return {
      format,
      enlarge: Boolean(this.spec.uiDefault(format, "enlarge")),
      keepMetadata: Boolean(this.spec.uiDefault(format, "keep_metadata")),
      options: {},
    };
  }

  /**
   * The settings stored under key over the defaults (the page's own and the shared ones), with the
   * shared part applied to the controls; a stored value the service no longer offers is not restored.
   */
  restore(key, ownDefaults) {
    const shared = this.sharedDefaults();
    const s = loadSettings(key, { ...shared, ...ownDefaults });
    this.format.value = this.spec.hasFormat(s.format) ? s.format : shared.format;
    this.enlarge.checked = Boolean(s.enlarge);
    this.keepMetadata.checked = Boolean(s.keepMetadata);
    this.panels.write(s.options);
    return s;
  }

  /** The shared part of the settings to store. */
  stored() {
    return {
      format: this.format.value, enlarge: this.enlarge.checked, keepMetadata: this.keepMetadata.checked,
      options: this.panels.readAll(),
    };
  }

  /** A file picked, dropped on the picker or on any of targets, or pasted calls onFile(file). */
  onFile(onFile, targets = []) {
    bindDropzone($("dropzone"), $("file"), onFile);
    bindFileSources(targets, onFile);
  }

  /** The page has applied the options document and its settings: users (and tests) may start. */
  ready() {
    document.body.dataset.ready = "true";
  }
}

/** The original's name, size and pixel size (#original-facts), kept in the page's language. */
class OriginalFacts {
  constructor() {
    this.box = $("original-facts");
    this.name = $("original-name");
    this.dims = $("original-dims");
    this.size = $("original-size");
    this.file = null;
    this.probed = null; // {width, height}, "reading", or null when unknown
    onLangChange(() => this.render());
  }

  /** A new file: its name and size at once, its pixel size once read. */
  reading(file) {
    this.file = file;
    this.probed = "reading";
    this.render();
  }

  /** The pixel size read (null: the browser could not read it). */
  show(probed) {
    this.probed = probed;
    this.render();
  }

  render() {
    if (!this.file) return;
    this.box.hidden = false;
    this.name.textContent = this.file.name;
    this.size.textContent = sizeText(this.file.size);
    const p = this.probed;
    this.dims.textContent = p === "reading" ? t("file.reading") : p ? t("file.dimensions", { w: p.width, h: p.height }) : "";
  }
}
