// TEMPORARY ADAPTER, to be deleted when GET /api/options (branch wave/contract) is merged.
// A copy of the options document in the contract's shape (wave brief, "Options document"), used
// only when the service answers 404 for /api/options, so the pages work against a service that
// predates the route. Nothing else reads it; options.js is the only importer.

const ALL = ["jpeg", "png", "webp", "avif", "tiff"];
const int = (minimum, maximum, def, formats = ALL) => ({ formats, type: "int", minimum, maximum, choices: null, default: def });
const bool = (def, formats = ALL) => ({ formats, type: "bool", minimum: null, maximum: null, choices: null, default: def });
const choice = (choices, def, formats = ALL) => ({ formats, type: "choice", minimum: null, maximum: null, choices, default: def });
const opt = (name, group, domains) => ({ name, description: "", group, domains });

export function contractFallback() {
  return {
    formats: [
      { name: "jpeg", media_type: "image/jpeg", extension: "jpg", alpha: false },
      { name: "png", media_type: "image/png", extension: "png", alpha: true },
      { name: "webp", media_type: "image/webp", extension: "webp", alpha: true },
      { name: "avif", media_type: "image/avif", extension: "avif", alpha: true },
      { name: "tiff", media_type: "image/tiff", extension: "tiff", alpha: true },
    ],
    options: [
      opt("width", "geometry", [int(1, 16383, null)]),
      opt("height", "geometry", [int(1, 16383, null)]),
      opt("fit", "geometry", [choice(["inside", "cover", "contain", "fill", "outside"], "inside")]),
      opt("enlarge", "geometry", [bool(false)]),
      opt("format", "output", [choice([...ALL, "auto"], "jpeg")]),
      opt("quality", "output", [int(1, 100, 80, ["jpeg", "webp", "tiff"]), int(1, 100, 50, ["avif"]), int(1, 100, null, ["png"])]),
      opt("keep_metadata", "output", [bool(false)]),
      opt("progressive", "encoder", [bool(false, ["jpeg"])]),
      opt("optimize_scans", "encoder", [bool(false, ["jpeg"])]),
      opt("trellis_quant", "encoder", [bool(false, ["jpeg"])]),
      opt("overshoot_deringing", "encoder", [bool(false, ["jpeg"])]),
      opt("optimize_coding", "encoder", [bool(true, ["jpeg"])]),
      opt("quant_table", "encoder", [int(0, 8, null, ["jpeg"])]),
      opt("chroma_subsampling", "encoder", [choice(["auto", "4:2:0", "4:4:4"], "4:2:0", ["jpeg"]), choice(["auto", "4:2:0", "4:4:4"], "auto", ["avif"])]),
      opt("compression", "encoder", [int(0, 9, 6, ["png"]), choice(["none", "lzw", "deflate", "jpeg", "zstd"], "lzw", ["tiff"])]),
      opt("palette", "encoder", [bool(false, ["png"])]),
      opt("colors", "encoder", [int(2, 256, 256, ["png"])]),
      opt("effort", "encoder", [int(1, 10, 7, ["png"]), int(0, 6, 4, ["webp"]), int(0, 9, 4, ["avif"])]),
      opt("lossless", "encoder", [bool(false, ["webp", "avif"])]),
      opt("near_lossless", "encoder", [bool(false, ["webp"])]),
      opt("alpha_quality", "encoder", [int(0, 100, 100, ["webp"])]),
      opt("smart_subsample", "encoder", [bool(false, ["webp"])]),
      opt("bitdepth", "encoder", [{ formats: ["avif"], type: "int", minimum: 8, maximum: 12, choices: ["8", "10", "12"], default: 8 }]),
      opt("predictor", "encoder", [choice(["none", "horizontal", "float"], "horizontal", ["tiff"])]),
      opt("tile", "encoder", [bool(false, ["tiff"])]),
      opt("pyramid", "encoder", [bool(false, ["tiff"])]),
    ],
    ui_defaults: {
      jpeg: { quality: 80, progressive: true, optimize_scans: true, trellis_quant: true, overshoot_deringing: true,
        optimize_coding: true, quant_table: 3, chroma_subsampling: "4:2:0" },
      png: {}, webp: { quality: 80 }, avif: { quality: 50 }, tiff: { quality: 80 },
    },
    limits: { max_output_dimension: 16383, max_upload_bytes: 0, max_input_pixels: 0, max_batch_outputs: 60, max_job_outputs: 600 },
  };
}
