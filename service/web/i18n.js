// Every string the UI shows, in one dictionary. The original UI was Korean; English is the
// fallback. Keys are grouped by the part of the page they belong to. Placeholders: {name}.

export const MESSAGES = {
  ko: {
    "app.title": "이미지 변환기",
    "app.subtitle": "크기, 형식, 품질을 바꾸고 결과를 바로 비교하세요.",
    "batch.title": "배치 변환",
    "batch.subtitle": "너비와 품질 조합을 한 번에 만들어 비교하세요.",
    "app.skip": "설정으로 건너뛰기",
    "nav.label": "페이지",
    "nav.single": "단일 변환",
    "nav.batch": "배치 변환",
    "lang.label": "언어",

    "file.legend": "이미지",
    "file.drop": "이미지를 여기에 끌어다 놓거나 눌러서 선택하세요",
    "file.hint": "JPEG, PNG, WebP, AVIF, TIFF, GIF, HEIC · 최대 25 MB",
    "file.original": "원본",
    "file.dimensions": "{w} × {h} 픽셀",
    "file.reading": "원본을 읽는 중…",

    "size.legend": "크기",
    "opt.width": "너비 (px)",
    "opt.height": "높이 (px)",
    "opt.lock": "가로세로 비율 유지",
    "opt.fit": "맞춤 방식",
    "opt.fit.hint": "너비와 높이를 모두 정하고 비율 유지를 끄면 적용됩니다.",
    "opt.auto": "자동 (원본 크기)",
    "fit.inside": "안쪽에 맞춤 (inside)",
    "fit.cover": "채우고 자르기 (cover)",
    "fit.contain": "여백 넣어 맞춤 (contain)",
    "fit.fill": "늘려 채우기 (fill)",
    "fit.outside": "바깥쪽에 맞춤 (outside)",

    "format.legend": "형식",
    "opt.format": "출력 형식",
    "opt.quality": "품질",
    "opt.quality.na": "무손실 출력에는 품질이 적용되지 않습니다.",
    "opt.advanced": "{format} 고급 설정",
    "opt.progressive": "프로그레시브",
    "opt.optimize_scans": "스캔 최적화",
    "opt.trellis_quant": "트렐리스 양자화",
    "opt.overshoot_deringing": "오버슈트 디링잉",
    "opt.optimize_coding": "허프만 코딩 최적화",
    "opt.compression": "압축",
    "opt.compression.png": "압축 수준 (0–9)",
    "opt.palette": "팔레트 (8비트 색상표)",
    "opt.colors": "색상 수 (2–256)",
    "opt.lossless": "무손실",
    "opt.effort": "인코딩 노력",
    "opt.near_lossless": "거의 무손실",
    "opt.smart_subsample": "스마트 서브샘플링",
    "tiff.none": "없음",
    "tiff.lzw": "LZW",
    "tiff.deflate": "Deflate",
    "tiff.jpeg": "JPEG",
    "tiff.zstd": "Zstandard",

    "action.convert": "변환",
    "action.download": "다운로드",
    "action.live": "바꿀 때마다 미리보기",

    "result.heading": "결과",
    "result.empty": "이미지를 선택하면 변환 결과가 여기에 보입니다.",
    "result.size": "{bytes} 바이트 ({human})",
    "result.dimensions": "{w} × {h} 픽셀 · {format}",
    "result.smaller": "원본보다 {pct}% 작음",
    "result.larger": "원본보다 {pct}% 큼",
    "result.same": "원본과 같은 크기",
    "result.time": "{s}초 걸림",
    "compare.label": "비교 방식",
    "compare.slider": "슬라이더",
    "compare.side": "나란히",
    "compare.position": "비교 위치",
    "compare.original": "원본",
    "compare.result": "결과",
    "compare.original_alt": "원본 이미지",
    "compare.result_alt": "변환된 이미지",

    "progress.uploading": "업로드 중… {pct}%",
    "progress.processing": "변환 중… {s}초",
    "progress.processing_n": "{n}개 변환 중… {s}초",
    "progress.downloading": "받는 중… {received}",
    "progress.retry": "서버가 바쁩니다. {s}초 뒤 다시 시도합니다…",

    "batch.widths": "너비 (px)",
    "batch.widths.hint": "최대 {max}개",
    "batch.qualities": "품질",
    "batch.add_width": "너비 추가",
    "batch.add_quality": "품질 추가",
    "batch.remove": "{value} 삭제",
    "batch.width_n": "너비 {n}",
    "batch.quality_n": "품질 {n}",
    "batch.run": "배치 변환 ({n}개)",
    "batch.download_all": "모두 ZIP으로 다운로드",
    "batch.download_one": "다운로드",
    "batch.download_one_label": "{name} 다운로드",
    "batch.grid": "결과 표",
    "batch.grid_caption": "행은 너비, 열은 품질입니다. 원본: {w} × {h}, {bytes} 바이트.",
    "batch.corner": "너비 \\ 품질",
    "batch.q": "품질 {q}",
    "batch.w": "{w} px",
    "batch.empty": "이미지를 고르고 배치 변환을 누르면 결과가 표로 나옵니다.",
    "batch.thumb_alt": "{w} × {h}, 품질 {q}",

    "error.network": "서비스에 연결할 수 없습니다. 잠시 뒤 다시 시도하세요.",
    "error.too_large": "파일이 너무 큽니다. 더 작은 파일을 올려 주세요.",
    "error.bad_image": "이 파일은 이미지로 읽을 수 없습니다. 다른 파일을 선택하세요.",
    "error.too_many_pixels": "이미지의 픽셀 수가 너무 많습니다.",
    "error.invalid_field": "‘{label}’ 값을 확인하세요.",
    "error.invalid": "설정 값을 확인하세요.",
    "error.busy": "서버가 바쁩니다. 잠시 뒤 다시 시도하세요.",
    "error.timeout": "변환이 너무 오래 걸려 중단되었습니다. 더 작은 크기나 낮은 노력 값을 시도하세요.",
    "error.server": "서버에서 오류가 났습니다.",
    "error.details": "자세히: {message}",
    "error.go_to": "‘{label}’(으)로 이동",
    "error.no_file": "먼저 이미지를 선택하세요.",
    "error.number_range": "{min}부터 {max} 사이의 정수를 입력하세요.",

    "opt.enlarge": "원본보다 크게 만들기 허용",
    "opt.keep_metadata": "메타데이터 유지 (EXIF, ICC 프로필)",
    "opt.keep_metadata.hint": "끄면 카메라·위치 정보가 지워집니다. 이미지는 항상 바로 세워집니다.",
    "opt.quant_table": "양자화 테이블",
    "qt.default": "기본값 (mozjpeg: 3)",
    "opt.chroma_subsampling": "색차 서브샘플링",
    "cs.auto": "자동 (품질 90 미만이면 4:2:0)",
    "cs.4:2:0": "4:2:0 (더 작게)",
    "cs.4:4:4": "4:4:4 (색 경계 선명)",
    "opt.effort.png": "팔레트 양자화 노력 (1–10)",
    "opt.alpha_quality": "투명도 품질",
    "opt.alpha_quality.hint": "투명한 부분이 있는 이미지에만 적용됩니다.",
    "opt.bitdepth": "비트 깊이",
    "bd.8": "8비트",
    "bd.10": "10비트",
    "bd.12": "12비트",
    "opt.predictor": "예측기",
    "pred.none": "없음",
    "pred.horizontal": "수평",
    "pred.float": "부동소수점",
    "opt.tile": "타일 TIFF",
    "opt.pyramid": "피라미드 TIFF (타일 포함)",
    "progress.label": "진행 상황",
    "result.not_shown": "브라우저가 {format} 이미지를 표시하지 못합니다. 크기와 다운로드는 실제 결과입니다.",
    "result.smaller_short": "{pct}% 작음",
    "result.larger_short": "{pct}% 큼",
    "result.same_short": "같은 크기",
    "error.invalid_value": "‘{label}’에 ‘{received}’ 값은 쓸 수 없습니다.",
    "error.allowed": "허용되는 값: {allowed}",
    "error.allowed_int": "{min}부터 {max} 사이의 정수",
    "error.allowed_choice": "{choices} 중 하나",
    "error.allowed_bool": "켜기 또는 끄기",
    "result.stale": "설정이 바뀌었습니다. 이 결과는 이전 설정의 것입니다.",
    "result.converting": "변환 중…",
    "file.paste_hint": "이미지를 여기에 끌어다 놓거나 붙여넣기(Ctrl+V)할 수도 있습니다.",
    "batch.enlarge": "원본보다 큰 너비 허용",
    "batch.quality_png": "PNG에서는 품질을 정하면 그 품질로 8비트 팔레트 이미지를 만듭니다.",
    "batch.quality_na": "이 설정에서는 품질이 결과에 영향을 주지 않아 열마다 같은 결과가 나옵니다.",
    "batch.view_label": "{name} 원래 크기로 보기",
    "batch.shared": "원본 너비({w} px)와 같습니다",
    "batch.missing": "결과 없음",
    "batch.pending": "변환 중",
    "viewer.close": "닫기",
    "qt.0": "0 · JPEG Annex K",
    "qt.1": "1 · Flat",
    "qt.2": "2 · MSSIM (Kodak)",
    "qt.3": "3 · ImageMagick",
    "qt.4": "4 · PSNR-HVS-M",
    "qt.5": "5 · Klein",
    "qt.6": "6 · Watson",
    "qt.7": "7 · Ahumada",
    "qt.8": "8 · Peterson",
  },
  en: {
    "app.title": "Image converter",
    "app.subtitle": "Change size, format and quality, and compare the result at once.",
    "batch.title": "Batch conversion",
    "batch.subtitle": "Make every width and quality combination in one go and compare them.",
    "app.skip": "Skip to the settings",
    "nav.label": "Pages",
    "nav.single": "Single",
    "nav.batch": "Batch",
    "lang.label": "Language",

    "file.legend": "Image",
    "file.drop": "Drop an image here, or click to choose one",
    "file.hint": "JPEG, PNG, WebP, AVIF, TIFF, GIF, HEIC · up to 25 MB",
    "file.original": "Original",
    "file.dimensions": "{w} × {h} pixels",
    "file.reading": "Reading the original…",

    "size.legend": "Size",
    "opt.width": "Width (px)",
    "opt.height": "Height (px)",
    "opt.lock": "Keep aspect ratio",
    "opt.fit": "Fit",
    "opt.fit.hint": "Used when both width and height are set and the ratio is unlocked.",
    "opt.auto": "Auto (original)",
    "fit.inside": "Fit inside (inside)",
    "fit.cover": "Fill and crop (cover)",
    "fit.contain": "Fit with padding (contain)",
    "fit.fill": "Stretch to fill (fill)",
    "fit.outside": "Fit outside (outside)",

    "format.legend": "Format",
    "opt.format": "Output format",
    "opt.quality": "Quality",
    "opt.quality.na": "Quality does not apply to lossless output.",
    "opt.advanced": "{format} options",
    "opt.progressive": "Progressive",
    "opt.optimize_scans": "Optimize scans",
    "opt.trellis_quant": "Trellis quantisation",
    "opt.overshoot_deringing": "Overshoot deringing",
    "opt.optimize_coding": "Optimized Huffman coding",
    "opt.compression": "Compression",
    "opt.compression.png": "Compression level (0–9)",
    "opt.palette": "Palette (8-bit colour table)",
    "opt.colors": "Colours (2–256)",
    "opt.lossless": "Lossless",
    "opt.effort": "Encoding effort",
    "opt.near_lossless": "Near lossless",
    "opt.smart_subsample": "Smart subsampling",
    "tiff.none": "None",
    "tiff.lzw": "LZW",
    "tiff.deflate": "Deflate",
    "tiff.jpeg": "JPEG",
    "tiff.zstd": "Zstandard",

    "action.convert": "Convert",
    "action.download": "Download",
    "action.live": "Preview on every change",

    "result.heading": "Result",
    "result.empty": "Choose an image and the converted result appears here.",
    "result.size": "{bytes} bytes ({human})",
    "result.dimensions": "{w} × {h} pixels · {format}",
    "result.smaller": "{pct}% smaller than the original",
    "result.larger": "{pct}% larger than the original",
    "result.same": "Same size as the original",
    "result.time": "took {s} s",
    "compare.label": "Comparison",
    "compare.slider": "Slider",
    "compare.side": "Side by side",
    "compare.position": "Comparison position",
    "compare.original": "Original",
    "compare.result": "Result",
    "compare.original_alt": "Original image",
    "compare.result_alt": "Converted image",

    "progress.uploading": "Uploading… {pct}%",
    "progress.processing": "Converting… {s} s",
    "progress.processing_n": "Converting {n} images… {s} s",
    "progress.downloading": "Receiving… {received}",
    "progress.retry": "The server is busy; trying again in {s} s…",

    "batch.widths": "Widths (px)",
    "batch.widths.hint": "up to {max}",
    "batch.qualities": "Qualities",
    "batch.add_width": "Add width",
    "batch.add_quality": "Add quality",
    "batch.remove": "Remove {value}",
    "batch.width_n": "Width {n}",
    "batch.quality_n": "Quality {n}",
    "batch.run": "Convert batch ({n} images)",
    "batch.download_all": "Download all as ZIP",
    "batch.download_one": "Download",
    "batch.download_one_label": "Download {name}",
    "batch.grid": "Results",
    "batch.grid_caption": "Rows are widths, columns are qualities. Original: {w} × {h}, {bytes} bytes.",
    "batch.corner": "Width \\ quality",
    "batch.q": "Quality {q}",
    "batch.w": "{w} px",
    "batch.empty": "Choose an image and press Convert batch; the results appear here as a table.",
    "batch.thumb_alt": "{w} × {h}, quality {q}",

    "error.network": "The service cannot be reached. Please try again in a moment.",
    "error.too_large": "The file is too large. Please upload a smaller file.",
    "error.bad_image": "This file cannot be read as an image. Please choose another file.",
    "error.too_many_pixels": "The image has too many pixels.",
    "error.invalid_field": "Please check “{label}”.",
    "error.invalid": "Please check the settings.",
    "error.busy": "The server is busy. Please try again in a moment.",
    "error.timeout": "The conversion took too long and was stopped. Try a smaller size or a lower effort.",
    "error.server": "The server had a problem.",
    "error.details": "Details: {message}",
    "error.go_to": "Go to “{label}”",
    "error.no_file": "Please choose an image first.",
    "error.number_range": "Enter a whole number from {min} to {max}.",

    "opt.enlarge": "Allow enlarging beyond the original",
    "opt.keep_metadata": "Keep metadata (EXIF, ICC profile)",
    "opt.keep_metadata.hint": "Off: camera and location data are removed. The image is always turned upright.",
    "opt.quant_table": "Quantisation table",
    "qt.default": "Default (mozjpeg: 3)",
    "opt.chroma_subsampling": "Chroma subsampling",
    "cs.auto": "Auto (4:2:0 below quality 90)",
    "cs.4:2:0": "4:2:0 (smaller)",
    "cs.4:4:4": "4:4:4 (sharp colour edges)",
    "opt.effort.png": "Palette effort (1–10)",
    "opt.alpha_quality": "Transparency quality",
    "opt.alpha_quality.hint": "Only matters for images with transparent parts.",
    "opt.bitdepth": "Bit depth",
    "bd.8": "8-bit",
    "bd.10": "10-bit",
    "bd.12": "12-bit",
    "opt.predictor": "Predictor",
    "pred.none": "None",
    "pred.horizontal": "Horizontal",
    "pred.float": "Floating point",
    "opt.tile": "Tiled TIFF",
    "opt.pyramid": "Pyramid TIFF (tiled)",
    "progress.label": "Progress",
    "result.not_shown": "Browsers cannot display {format}; the size and the download are the real result.",
    "result.smaller_short": "{pct}% smaller",
    "result.larger_short": "{pct}% larger",
    "result.same_short": "Same size",
    "error.invalid_value": "“{received}” is not a valid value for “{label}”.",
    "error.allowed": "Allowed: {allowed}",
    "error.allowed_int": "a whole number from {min} to {max}",
    "error.allowed_choice": "one of {choices}",
    "error.allowed_bool": "on or off",
    "result.stale": "The settings changed: this result is from the previous settings.",
    "result.converting": "Converting…",
    "file.paste_hint": "You can also drop an image here or paste one (Ctrl+V).",
    "batch.enlarge": "Allow widths larger than the original",
    "batch.quality_png": "For PNG, each quality makes an 8-bit palette image at that quality.",
    "batch.quality_na": "With these options quality has no effect: every column will be the same.",
    "batch.view_label": "View {name} at full size",
    "batch.shared": "Same as the original width ({w} px)",
    "batch.missing": "No result",
    "batch.pending": "Converting",
    "viewer.close": "Close",
    "qt.0": "0 · JPEG Annex K",
    "qt.1": "1 · Flat",
    "qt.2": "2 · MSSIM (Kodak)",
    "qt.3": "3 · ImageMagick",
    "qt.4": "4 · PSNR-HVS-M",
    "qt.5": "5 · Klein",
    "qt.6": "6 · Watson",
    "qt.7": "7 · Ahumada",
    "qt.8": "8 · Peterson",
  },
};

const STORAGE_KEY = "imageconv.lang";
const listeners = [];
let current = pickInitialLanguage();

function pickInitialLanguage() {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved && saved in MESSAGES) return saved;
  } catch (_) { /* storage may be blocked; fall through to the browser language */ }
  const wanted = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language];
  for (const tag of wanted) {
    const base = String(tag || "").toLowerCase().split("-")[0];
    if (base in MESSAGES) return base;
  }
  return "en";
}

export function getLang() {
  return current;
}

/** Look a key up in the current language (falling back to English, then the key itself). */
export function t(key, params = {}) {
  const text = MESSAGES[current][key] ?? MESSAGES.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
}

/**
 * Fill every element marked with data-i18n (text) or data-i18n-attr ("attr:key;attr:key")
 * below root, and set <html lang>.
 */
export function applyTranslations(root = document) {
  document.documentElement.lang = current;
  for (const el of root.querySelectorAll("[data-i18n]")) {
    el.textContent = t(el.dataset.i18n, el.dataset.i18nParams ? JSON.parse(el.dataset.i18nParams) : {});
  }
  for (const el of root.querySelectorAll("[data-i18n-attr]")) {
    for (const pair of el.dataset.i18nAttr.split(";")) {
      const [attr, key] = pair.split(":");
      el.setAttribute(attr.trim(), t(key.trim()));
    }
  }
  const titleKey = document.body.dataset.titleKey;
  if (titleKey) document.title = t(titleKey);
}

export function setLang(lang) {
  if (!(lang in MESSAGES)) return;
  current = lang;
  try { localStorage.setItem(STORAGE_KEY, lang); } catch (_) { /* not persisted; still switch */ }
  applyTranslations();
  for (const fn of listeners) fn(lang);
}

/** Run fn after every language switch (for text built in JS). */
export function onLangChange(fn) {
  listeners.push(fn);
}

/** Wire a <select> as the language switch. */
export function bindLanguageSwitch(select) {
  select.value = current;
  select.addEventListener("change", () => setLang(select.value));
  onLangChange((lang) => { select.value = lang; });
}
