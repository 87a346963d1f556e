// Glimpse web page: upload or camera → /v1/detect and /v1/search, text search, hardware and
// readiness. Plain JavaScript, no build step, no external resources (the server may be offline).
//
// Hooks for tests: document.body.dataset.state is "busy" while a request round runs, then
// "done" or "error" (data-round counts finished rounds, data-action names the last one:
// "upload" or "text"); #detections-canvas has data-detections (boxes drawn), #results has
// data-count (matches shown), #status has data-ready="true" once /readyz answers 200.
// Detector options in the page URL are passed on to /v1/detect and the AR stream:
// /?conf=0.1&iou=0.5&classes=person,car
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const els = {
    status: $("status"),
    statusText: $("status-text"),
    hardware: $("hardware"),
    error: $("error"),
    errorList: $("error-list"),
    errorDismiss: $("error-dismiss"),
    dropZone: $("drop-zone"),
    fileInput: $("file-input"),
    cameraButton: $("camera-button"),
    cameraStats: $("camera-stats"),
    stage: $("stage"),
    video: $("camera-video"),
    canvas: $("detections-canvas"),
    placeholder: $("stage-placeholder"),
    detectSummary: $("detect-summary"),
    detectionsList: $("detections-list"),
    searchForm: $("text-search-form"),
    textQuery: $("text-query"),
    resultsSummary: $("results-summary"),
    results: $("results"),
  };

  const DETECT_K = 4;
  const SEARCH_K = 12;
  const CAMERA_K = 3;
  const MAX_CANVAS_SIDE = 1600; // the drawing canvas; the page scales it down to fit
  const CAMERA_FRAME_WIDTH = 640; // frames sent over the WebSocket
  const CAMERA_FRAME_TIMEOUT_MS = 3000; // resend if an answer never comes
  const MAX_ERRORS = 6;
  const MAX_LISTED_DETECTIONS = 25; // the canvas shows them all; the list stays short
  const MAX_LABELED_BOXES = 30; // the most confident boxes get a label on the canvas
  const PALETTE = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#00a3a3",
    "#d81b9a", "#7a9a01", "#b8860b", "#1f77b4", "#8c564b", "#e377c2"];

  const pageParams = new URLSearchParams(window.location.search);

  // ---------------------------------------------------------------- API

  class ApiError extends Error {
    constructor(status, code, message, retryAfter) {
      super(message);
      this.status = status;
      this.code = code;
      this.retryAfter = retryAfter || null;
    }
  }

  // Fetches JSON; any non-2xx answer becomes an ApiError carrying the server's code and message.
  async function api(path, options = {}) {
    let response;
    try {
      response = await fetch(path, { cache: "no-store", ...options });
    } catch (err) {
      throw new ApiError(0, "network_error", `Could not reach the server (${err.message || err}).`);
    }
    const text = await response.text();
    let body = null;
    if (text) {
      try { body = JSON.parse(text); } catch (_) { body = null; }
    }
    if (!response.ok) {
      const retryAfter = response.headers.get("Retry-After");
      if (body && body.error && typeof body.error === "object") {
        throw new ApiError(response.status, String(body.error.code || "error"),
          String(body.error.message || response.statusText), retryAfter);
      }
      const snippet = text.trim().slice(0, 200);
      throw new ApiError(response.status, `http_${response.status}`,
        snippet || response.statusText || "Request failed.", retryAfter);
    }
    if (body === null || typeof body !== "object") {
      throw new ApiError(response.status, "bad_response", "The server's answer is not JSON.");
    }
    return body;
  }

  function describeError(err) {
    if (err instanceof ApiError) {
      let text = `${err.code}: ${err.message}`;
      if (err.status) text += ` (HTTP ${err.status})`;
      if (err.retryAfter) text += ` Retry after ${err.retryAfter} s.`;
      return text;
    }
    return String((err && err.message) || err);
  }

  // ---------------------------------------------------------------- errors and state

  function showError(context, err) {
    const li = document.createElement("li");
    const strong = document.createElement("strong");
    strong.textContent = `${context}: `;
    li.append(strong, document.createTextNode(describeError(err)));
    if (err && err.code) li.dataset.code = err.code;
    els.errorList.append(li);
    while (els.errorList.children.length > MAX_ERRORS) els.errorList.firstElementChild.remove();
    els.error.hidden = false;
    console.error(`[glimpse] ${context}:`, describeError(err));
  }

  function clearErrors() {
    els.errorList.replaceChildren();
    els.error.hidden = true;
  }

  els.errorDismiss.addEventListener("click", clearErrors);

  let pending = 0;
  let failedWhileBusy = false;
  let finishedRounds = 0;

  function beginAction(action) {
    pending += 1;
    document.body.dataset.action = action;
    document.body.dataset.state = "busy";
    document.body.setAttribute("aria-busy", "true");
  }

  function endAction(ok) {
    pending = Math.max(0, pending - 1);
    if (!ok) failedWhileBusy = true;
    if (pending === 0) {
      finishedRounds += 1;
      document.body.dataset.round = String(finishedRounds);
      document.body.dataset.state = failedWhileBusy ? "error" : "done";
      document.body.removeAttribute("aria-busy");
      failedWhileBusy = false;
    }
  }

  // ---------------------------------------------------------------- readiness and hardware

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  function setStatus(kind, text) {
    els.status.dataset.status = kind;
    els.status.dataset.ready = String(kind === "ready");
    els.statusText.textContent = text;
  }

  async function pollReady() {
    for (;;) {
      try {
        const response = await fetch("/readyz", { cache: "no-store" });
        if (response.ok) {
          setStatus("ready", "Ready");
          loadHardware();
          return;
        }
        let message = `HTTP ${response.status}`;
        try {
          const body = await response.json();
          if (body && body.error && body.error.message) message = body.error.message;
        } catch (_) { /* keep the status code */ }
        // "the models are still loading", or a load failure (which stays until a restart).
        setStatus(/fail/i.test(message) ? "failed" : "loading", `Not ready: ${message}`);
      } catch (_) {
        setStatus("offline", "Server unreachable, retrying…");
      }
      await sleep(1000);
    }
  }

  function formatBytes(bytes) {
    if (typeof bytes !== "number" || !isFinite(bytes) || bytes <= 0) return null;
    const gib = bytes / 2 ** 30;
    if (gib >= 1) return `${gib.toFixed(1)} GiB`;
    return `${(bytes / 2 ** 20).toFixed(0)} MiB`;
  }

  function describeHardware(hw) {
    const parts = [];
    parts.push(`Device: ${hw.device || "unknown"}`);
    const gpus = Array.isArray(hw.gpus) ? hw.gpus : [];
    for (const gpu of gpus) {
      const vram = formatBytes(gpu.memory_total_bytes);
      parts.push(`GPU ${gpu.index ?? ""}: ${gpu.name || "unknown"}${vram ? `, ${vram} VRAM` : ""}`.replace("GPU : ", "GPU: "));
    }
    const host = hw.host || {};
    if (host.cpu_model || host.logical_cores) {
      const details = [];
      if (host.logical_cores) details.push(`${host.logical_cores} cores`);
      const memory = formatBytes(host.memory_total_bytes);
      if (memory) details.push(memory);
      parts.push(`CPU: ${host.cpu_model || "unknown"}${details.length ? ` (${details.join(", ")})` : ""}`);
    }
    const models = Array.isArray(hw.models) ? hw.models : [];
    if (models.length) {
      parts.push(`Models: ${models.map((m) => `${m.name} (${[m.family, m.kind, m.precision].filter(Boolean).join(", ")})`).join(", ")}`);
    } else {
      parts.push("Models: none loaded");
    }
    return parts.join(" · ");
  }

  async function loadHardware() {
    try {
      const hw = await api("/v1/hardware");
      els.hardware.textContent = describeHardware(hw);
      if (hw.reason) els.hardware.title = hw.reason;
      els.hardware.dataset.device = hw.device || "";
    } catch (err) {
      els.hardware.textContent = `Hardware unavailable: ${describeError(err)}`;
      showError("Hardware", err);
    }
  }

  // ---------------------------------------------------------------- drawing

  function colorFor(det) {
    // A tracked object (AR stream) keeps its colour while it moves: one per track id.
    if (Number.isInteger(det.track_id)) return PALETTE[det.track_id % PALETTE.length];
    const id = Number.isInteger(det.class_id) ? det.class_id : hashString(det.label || "");
    return PALETTE[Math.abs(id) % PALETTE.length];
  }

  function hashString(s) {
    let h = 0;
    for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0;
    return h;
  }

  function formatDistance(d) {
    if (typeof d !== "number" || !isFinite(d)) return null;
    return d < 10 ? d.toFixed(1) : d.toFixed(0);
  }

  function detectionLabel(det) {
    let text = det.label || `class ${det.class_id}`;
    if (Number.isInteger(det.track_id)) text = `#${det.track_id} ${text}`;
    if (typeof det.confidence === "number") text += ` ${det.confidence.toFixed(2)}`;
    const distance = formatDistance(det.distance_m);
    if (distance !== null) text += ` · ${distance} m`;
    return text;
  }

  // Draws detection boxes on the canvas; (imageWidth, imageHeight) is the size the server saw.
  function drawDetections(ctx, detections, imageWidth, imageHeight) {
    const canvas = ctx.canvas;
    const sx = imageWidth ? canvas.width / imageWidth : 1;
    const sy = imageHeight ? canvas.height / imageHeight : 1;
    // Keep lines and text a constant size on screen, whatever the canvas resolution.
    const shown = canvas.getBoundingClientRect().width || canvas.width;
    const unit = Math.max(0.5, canvas.width / shown);
    const fontPx = Math.round(13 * unit);
    ctx.lineWidth = Math.max(1, 2 * unit);
    ctx.font = `600 ${fontPx}px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif`;
    ctx.textBaseline = "top";
    // Most confident last, so that its box and label end up on top; only the most confident
    // MAX_LABELED_BOXES get a label (a random-weight demo model can return hundreds of boxes).
    const boxes = [];
    for (const det of detections) {
      const box = det.box || {};
      const rect = [box.x1 * sx, box.y1 * sy, box.x2 * sx, box.y2 * sy];
      if (rect.every(Number.isFinite)) boxes.push({ det, rect });
    }
    boxes.sort((a, b) => (a.det.confidence || 0) - (b.det.confidence || 0));
    for (const { det, rect: [x1, y1, x2, y2] } of boxes) {
      ctx.strokeStyle = colorFor(det);
      ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
    }
    const padding = Math.round(3 * unit);
    const textHeight = fontPx + 2 * padding;
    for (const { det, rect: [x1, y1] } of boxes.slice(-MAX_LABELED_BOXES)) {
      const text = detectionLabel(det);
      const textWidth = ctx.measureText(text).width + 2 * padding;
      const tx = Math.min(Math.max(0, x1), Math.max(0, canvas.width - textWidth));
      const ty = y1 - textHeight >= 0 ? y1 - textHeight : Math.max(0, y1);
      ctx.fillStyle = colorFor(det);
      ctx.fillRect(tx - ctx.lineWidth / 2, ty, textWidth, textHeight);
      ctx.fillStyle = "#fff";
      ctx.fillText(text, tx + padding - ctx.lineWidth / 2, ty + padding);
    }
    const drawn = boxes.length;
    return drawn;
  }

  function setDetectionCount(n, description) {
    els.canvas.dataset.detections = String(n);
    els.canvas.setAttribute("aria-label", description);
  }

  function renderDetectionList(detections) {
    const items = detections.slice(0, MAX_LISTED_DETECTIONS).map((det) => {
      const li = document.createElement("li");
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = colorFor(det);
      swatch.setAttribute("aria-hidden", "true");
      const label = document.createElement("span");
      label.className = "det-label";
      label.textContent = detectionLabel(det);
      li.append(swatch, label);
      if (Array.isArray(det.matches) && det.matches.length) {
        const matches = document.createElement("span");
        matches.className = "det-matches muted";
        matches.textContent = "matches: " + det.matches
          .map((m) => `${m.id} (${formatScore(m.score)})`).join(", ");
        const best = det.matches[0];
        const bestMetadata = best.metadata && typeof best.metadata === "object" ? best.metadata : {};
        li.append(itemPicture(best.id, bestMetadata, "det-thumb"), matches);
      }
      return li;
    });
    if (detections.length > MAX_LISTED_DETECTIONS) {
      const more = document.createElement("li");
      more.className = "muted";
      more.textContent = `… and ${detections.length - MAX_LISTED_DETECTIONS} more (all drawn above).`;
      items.push(more);
    }
    els.detectionsList.replaceChildren(...items);
  }

  // ---------------------------------------------------------------- results grid

  function formatScore(score) {
    return typeof score === "number" ? score.toFixed(3) : "–";
  }

  function safeImageUrl(value) {
    if (typeof value !== "string" || !value) return null;
    try {
      const url = new URL(value, window.location.href);
      if (url.protocol === "http:" || url.protocol === "https:") return url.href;
      if (url.protocol === "data:" && /^data:image\//i.test(value)) return value;
    } catch (_) { /* not a URL */ }
    return null;
  }

  function tile(id) {
    const div = document.createElement("div");
    div.className = "tile";
    div.textContent = id;
    div.setAttribute("aria-hidden", "true");
    return div;
  }

  function formatValue(value) {
    if (value === null) return "null";
    if (typeof value === "object") return JSON.stringify(value);
    return String(value);
  }

  // The item's own thumbnail, kept by the catalog (GET /v1/items/{id}/thumbnail).
  function catalogThumbnailUrl(id) {
    return `/v1/items/${encodeURIComponent(String(id))}/thumbnail`;
  }

  // A picture of the item: its metadata's thumbnail_url or url when set, else the catalog's
  // thumbnail; a tile with the id where there is none (the server answers 404).
  function itemPicture(id, metadata, className) {
    const src = safeImageUrl(metadata.thumbnail_url) || safeImageUrl(metadata.url) || catalogThumbnailUrl(id);
    const img = document.createElement("img");
    img.src = src;
    img.alt = String(id);
    img.loading = "lazy";
    img.referrerPolicy = "no-referrer";
    if (className) img.className = className;
    // In the results grid a tile with the id takes the picture's place; a small thumbnail
    // next to a detection is simply left out.
    const fallback = () => (className ? img.remove() : img.replaceWith(tile(String(id))));
    img.addEventListener("error", fallback, { once: true });
    return img;
  }

  function renderResult(result, index) {
    const li = document.createElement("li");
    li.className = "result";
    li.dataset.id = String(result.id);
    const metadata = result.metadata && typeof result.metadata === "object" ? result.metadata : {};
    const media = document.createElement("div");
    media.className = "media";
    media.append(itemPicture(result.id, metadata));
    const body = document.createElement("div");
    body.className = "result-body";
    const title = document.createElement("p");
    title.className = "result-id";
    title.textContent = `${index + 1}. ${result.id}`;
    title.title = String(result.id);
    const score = document.createElement("p");
    score.className = "result-score";
    score.textContent = `score ${formatScore(result.score)}`;
    body.append(title, score);
    const entries = Object.entries(metadata);
    if (entries.length) {
      const dl = document.createElement("dl");
      dl.className = "metadata";
      for (const [key, value] of entries.slice(0, 8)) {
        const dt = document.createElement("dt");
        dt.textContent = key;
        const dd = document.createElement("dd");
        dd.textContent = formatValue(value);
        dd.title = dd.textContent;
        dl.append(dt, dd);
      }
      if (entries.length > 8) {
        const dt = document.createElement("dt");
        dt.textContent = "…";
        const dd = document.createElement("dd");
        dd.textContent = `${entries.length - 8} more`;
        dl.append(dt, dd);
      }
      body.append(dl);
    }
    li.append(media, body);
    return li;
  }

  function renderResults(answer, source) {
    const results = Array.isArray(answer.results) ? answer.results : [];
    els.results.replaceChildren(...results.map(renderResult));
    els.results.dataset.count = String(results.length);
    const took = typeof answer.took_ms === "number" ? ` in ${answer.took_ms.toFixed(1)} ms` : "";
    els.resultsSummary.textContent = results.length
      ? `${results.length} match${results.length === 1 ? "" : "es"} for ${source}${took}.`
      : `No catalog match for ${source}${took}. Is the catalog empty?`;
  }

  function clearResults(message) {
    els.results.replaceChildren();
    els.results.dataset.count = "0";
    els.resultsSummary.textContent = message;
  }

  // ---------------------------------------------------------------- upload

  // The content type to send: the file's own, or sniffed from its first bytes.
  async function imageType(file) {
    if (["image/jpeg", "image/png", "image/webp"].includes(file.type)) return file.type;
    const bytes = new Uint8Array(await file.slice(0, 12).arrayBuffer());
    if (bytes[0] === 0xff && bytes[1] === 0xd8) return "image/jpeg";
    if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return "image/png";
    const ascii = String.fromCharCode(...bytes);
    if (ascii.startsWith("RIFF") && ascii.slice(8, 12) === "WEBP") return "image/webp";
    return file.type || null;
  }

  function detectParams(extra) {
    const params = new URLSearchParams();
    for (const key of ["conf", "iou", "classes", "fov_deg", "focal_px"]) {
      const value = pageParams.get(key);
      if (value !== null && value !== "") params.set(key, value);
    }
    for (const [key, value] of Object.entries(extra)) params.set(key, String(value));
    return params;
  }

  let uploadToken = 0;
  let resultsToken = 0;

  function prepareCanvas(width, height) {
    const scale = Math.min(1, MAX_CANVAS_SIDE / Math.max(width, height, 1));
    els.canvas.width = Math.max(1, Math.round(width * scale));
    els.canvas.height = Math.max(1, Math.round(height * scale));
    const ctx = els.canvas.getContext("2d");
    ctx.clearRect(0, 0, els.canvas.width, els.canvas.height);
    return ctx;
  }

  async function handleFile(file) {
    if (!file) return;
    stopCamera();
    clearErrors();
    const token = ++uploadToken;
    const searchToken = ++resultsToken;
    beginAction("upload");
    let ok = true;
    try {
      const type = await imageType(file);
      if (!type || !type.startsWith("image/")) {
        throw new ApiError(0, "unsupported_media_type",
          `${file.name || "The file"} is not an image (JPEG, PNG or WebP).`);
      }
      els.stage.dataset.mode = "image";
      els.placeholder.hidden = true;
      els.placeholder.textContent = "Detections appear here.";
      els.detectSummary.textContent = `Detecting objects in ${file.name || "the image"}…`;
      els.detectionsList.replaceChildren();
      setDetectionCount(0, `Image ${file.name || ""}, detecting…`);
      clearResults("Searching the catalog…");

      let bitmap = null;
      try {
        bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
      } catch (_) {
        bitmap = null; // the browser cannot show it; the server may still read it
      }
      if (bitmap) {
        const ctx = prepareCanvas(bitmap.width, bitmap.height);
        ctx.drawImage(bitmap, 0, 0, els.canvas.width, els.canvas.height);
      } else {
        els.stage.dataset.mode = "empty";
        els.placeholder.hidden = false;
        els.placeholder.textContent = "This browser cannot show the image; the server may still read it.";
      }

      const detectUrl = `/v1/detect?${detectParams({ search: "true", k: DETECT_K })}`;
      const searchUrl = `/v1/search?k=${SEARCH_K}`;
      const [detect, search] = await Promise.allSettled([
        api(detectUrl, { method: "POST", headers: { "Content-Type": type }, body: file }),
        api(searchUrl, { method: "POST", headers: { "Content-Type": type }, body: file }),
      ]);

      if (token === uploadToken) {
        if (detect.status === "fulfilled") {
          const answer = detect.value;
          const detections = Array.isArray(answer.detections) ? answer.detections : [];
          let ctx;
          if (bitmap) {
            ctx = prepareCanvas(bitmap.width, bitmap.height);
            ctx.drawImage(bitmap, 0, 0, els.canvas.width, els.canvas.height);
          } else {
            els.stage.dataset.mode = "image";
            els.placeholder.hidden = true;
            ctx = prepareCanvas(answer.width || 640, answer.height || 480);
            ctx.fillStyle = "#777";
            ctx.fillRect(0, 0, els.canvas.width, els.canvas.height);
          }
          const drawn = drawDetections(ctx, detections, answer.width, answer.height);
          setDetectionCount(drawn, `${file.name || "Image"} with ${drawn} detection${drawn === 1 ? "" : "s"}: ` +
            detections.map(detectionLabel).join("; "));
          renderDetectionList(detections);
          const took = typeof answer.took_ms === "number" ? ` in ${answer.took_ms.toFixed(1)} ms` : "";
          els.detectSummary.textContent = `${drawn} detection${drawn === 1 ? "" : "s"}` +
            ` on ${answer.width}×${answer.height}${took}.`;
        } else {
          ok = false;
          els.detectSummary.textContent = "Detection failed.";
          showError("Detect", detect.reason);
        }
      }
      if (searchToken === resultsToken) {
        if (search.status === "fulfilled") {
          renderResults(search.value, file.name ? `image ${file.name}` : "the image");
        } else {
          ok = false;
          clearResults("Image search failed.");
          showError("Image search", search.reason);
        }
      }
      if (bitmap) bitmap.close();
    } catch (err) {
      ok = false;
      showError("Upload", err);
    } finally {
      endAction(ok);
    }
  }

  els.fileInput.addEventListener("change", () => {
    const file = els.fileInput.files && els.fileInput.files[0];
    handleFile(file);
    els.fileInput.value = ""; // choosing the same file again fires change again
  });

  ["dragenter", "dragover"].forEach((type) => els.dropZone.addEventListener(type, (event) => {
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
    els.dropZone.classList.add("dragging");
  }));
  ["dragleave", "dragend"].forEach((type) => els.dropZone.addEventListener(type, () => {
    els.dropZone.classList.remove("dragging");
  }));
  els.dropZone.addEventListener("drop", (event) => {
    event.preventDefault();
    els.dropZone.classList.remove("dragging");
    const file = event.dataTransfer.files && event.dataTransfer.files[0];
    if (file) handleFile(file);
  });
  // A file dropped elsewhere on the page must not navigate away from it.
  window.addEventListener("dragover", (event) => event.preventDefault());
  window.addEventListener("drop", (event) => event.preventDefault());

  document.addEventListener("paste", (event) => {
    if (event.target === els.textQuery) return;
    const items = event.clipboardData ? Array.from(event.clipboardData.files || []) : [];
    const image = items.find((f) => f.type.startsWith("image/"));
    if (image) {
      event.preventDefault();
      handleFile(image);
    }
  });

  // ---------------------------------------------------------------- text search

  els.searchForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = els.textQuery.value.trim();
    if (!text) {
      els.textQuery.focus();
      els.resultsSummary.textContent = "Type a description first.";
      return;
    }
    clearErrors();
    const token = ++resultsToken;
    beginAction("text");
    let ok = true;
    clearResults(`Searching for “${text}”…`);
    try {
      const answer = await api("/v1/search", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ text, k: SEARCH_K }),
      });
      if (token === resultsToken) renderResults(answer, `“${text}”`);
    } catch (err) {
      ok = false;
      if (token === resultsToken) clearResults("Text search failed.");
      showError("Text search", err);
    } finally {
      endAction(ok);
    }
  });

  // ---------------------------------------------------------------- camera (AR stream)

  const camera = {
    active: false,
    stream: null,
    socket: null,
    timer: null,
    inFlight: false,
    sentAt: 0,
    answers: 0,
    startedAt: 0,
    lastErrorCode: null,
    capture: document.createElement("canvas"),
  };

  function cameraMessage(err) {
    const name = err && err.name;
    if (name === "NotAllowedError" || name === "SecurityError") return "Camera permission was denied.";
    if (name === "NotFoundError" || name === "OverconstrainedError") return "No camera was found.";
    if (name === "NotReadableError" || name === "AbortError") return "The camera is in use or could not be started.";
    return `The camera could not be started (${(err && err.message) || err}).`;
  }

  function setCameraUi(active) {
    els.cameraButton.textContent = active ? "Stop camera" : "Camera";
    els.cameraButton.setAttribute("aria-pressed", String(active));
    els.video.hidden = !active;
  }

  async function startCamera() {
    clearErrors();
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      const reason = window.isSecureContext
        ? "This browser gives no camera access."
        : "Browsers only allow the camera on HTTPS pages or on localhost.";
      els.cameraStats.textContent = "Camera unavailable.";
      showError("Camera", new Error(`The camera is unavailable: ${reason}`));
      return;
    }
    if (typeof WebSocket === "undefined") {
      showError("Camera", new Error("This browser has no WebSocket support."));
      return;
    }
    els.cameraButton.disabled = true;
    els.cameraStats.textContent = "Starting the camera…";
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: false,
        video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 }, height: { ideal: 720 } },
      });
    } catch (err) {
      els.cameraButton.disabled = false;
      els.cameraStats.textContent = "Camera unavailable.";
      showError("Camera", new Error(cameraMessage(err)));
      return;
    }
    uploadToken += 1; // an upload still running must not draw over the camera
    camera.active = true;
    camera.stream = stream;
    camera.inFlight = false;
    camera.answers = 0;
    camera.lastErrorCode = null;
    camera.startedAt = performance.now();
    els.video.srcObject = stream;
    setCameraUi(true);
    els.cameraButton.disabled = false;
    els.stage.dataset.mode = "camera";
    els.placeholder.hidden = true;
    els.detectionsList.replaceChildren();
    els.detectSummary.textContent = "Live detection from the camera.";
    const ctx = els.canvas.getContext("2d");
    ctx.clearRect(0, 0, els.canvas.width, els.canvas.height);
    setDetectionCount(0, "Live camera, no detection yet");
    try {
      await els.video.play();
    } catch (err) {
      showError("Camera", new Error(cameraMessage(err)));
      stopCamera();
      return;
    }
    openSocket();
  }

  function openSocket() {
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(`${scheme}//${window.location.host}/v1/ar/stream`);
    socket.binaryType = "arraybuffer";
    camera.socket = socket;
    els.cameraStats.textContent = "Connecting to the stream…";
    socket.addEventListener("open", () => {
      if (camera.socket !== socket) return;
      const settings = { search: false, k: CAMERA_K };
      const params = detectParams({});
      if (params.has("conf")) settings.conf = Number(params.get("conf"));
      if (params.has("iou")) settings.iou = Number(params.get("iou"));
      if (params.has("classes")) settings.classes = params.get("classes").split(",").map((s) => s.trim()).filter(Boolean);
      if (params.has("fov_deg")) settings.fov_deg = Number(params.get("fov_deg"));
      if (params.has("focal_px")) settings.focal_px = Number(params.get("focal_px"));
      socket.send(JSON.stringify(settings));
      els.cameraStats.textContent = "Streaming…";
      scheduleFrame(0);
    });
    socket.addEventListener("message", (event) => {
      if (camera.socket !== socket) return;
      onStreamMessage(event.data);
    });
    socket.addEventListener("close", (event) => {
      if (camera.socket !== socket) return;
      camera.socket = null;
      if (camera.active) {
        const reason = event.reason ? `: ${event.reason}` : "";
        showError("Camera stream", new Error(`The stream closed (code ${event.code}${reason}).`));
        stopCamera();
      }
    });
  }

  function scheduleFrame(delay) {
    clearTimeout(camera.timer);
    camera.timer = setTimeout(sendFrame, delay);
  }

  function sendFrame() {
    if (!camera.active) return;
    const socket = camera.socket;
    const video = els.video;
    const now = performance.now();
    if (camera.inFlight && now - camera.sentAt > CAMERA_FRAME_TIMEOUT_MS) camera.inFlight = false;
    const ready = socket && socket.readyState === WebSocket.OPEN && video.videoWidth > 0 &&
      !document.hidden && socket.bufferedAmount < 1 << 20;
    if (!ready || camera.inFlight) {
      scheduleFrame(50);
      return;
    }
    const scale = Math.min(1, CAMERA_FRAME_WIDTH / video.videoWidth);
    camera.capture.width = Math.round(video.videoWidth * scale);
    camera.capture.height = Math.round(video.videoHeight * scale);
    camera.capture.getContext("2d").drawImage(video, 0, 0, camera.capture.width, camera.capture.height);
    camera.inFlight = true;
    camera.sentAt = now;
    camera.capture.toBlob((blob) => {
      if (!blob || !camera.active || camera.socket !== socket || socket.readyState !== WebSocket.OPEN) {
        camera.inFlight = false;
        scheduleFrame(50);
        return;
      }
      socket.send(blob); // a binary message
      scheduleFrame(CAMERA_FRAME_TIMEOUT_MS + 10);
    }, "image/jpeg", 0.75);
  }

  function onStreamMessage(data) {
    if (typeof data !== "string") return;
    camera.inFlight = false;
    scheduleFrame(0);
    let message;
    try {
      message = JSON.parse(data);
    } catch (_) {
      showError("Camera stream", new Error("The server sent a message that is not JSON."));
      return;
    }
    if (message.error) {
      const err = new ApiError(0, String(message.error.code || "error"), String(message.error.message || "frame failed"));
      const key = `${err.code}:${err.message}`;
      const context = message.frame == null ? "Camera settings" : `Camera frame ${message.frame}`;
      if (camera.lastErrorCode !== key) showError(context, err);
      camera.lastErrorCode = key;
      return;
    }
    camera.lastErrorCode = null;
    camera.answers += 1;
    const video = els.video;
    const width = video.videoWidth || message.width || 640;
    const height = video.videoHeight || message.height || 480;
    if (els.canvas.width !== width || els.canvas.height !== height) {
      els.canvas.width = width;
      els.canvas.height = height;
    }
    const ctx = els.canvas.getContext("2d");
    ctx.clearRect(0, 0, width, height);
    const detections = Array.isArray(message.detections) ? message.detections : [];
    const drawn = drawDetections(ctx, detections, message.width, message.height);
    setDetectionCount(drawn, `Live camera with ${drawn} detection${drawn === 1 ? "" : "s"}`);
    renderDetectionList(detections);
    const seconds = (performance.now() - camera.startedAt) / 1000;
    const fps = seconds > 0 ? camera.answers / seconds : 0;
    const took = typeof message.took_ms === "number" ? ` · ${message.took_ms.toFixed(0)} ms` : "";
    els.cameraStats.textContent = `frame ${message.frame} · ${message.dropped || 0} dropped${took} · ${fps.toFixed(1)} fps`;
    els.cameraStats.dataset.frames = String(camera.answers);
  }

  function stopCamera() {
    if (!camera.active && !camera.stream) return;
    camera.active = false;
    clearTimeout(camera.timer);
    const socket = camera.socket;
    camera.socket = null;
    if (socket && socket.readyState <= WebSocket.OPEN) socket.close(1000, "camera stopped");
    if (camera.stream) camera.stream.getTracks().forEach((track) => track.stop());
    camera.stream = null;
    els.video.srcObject = null;
    setCameraUi(false);
    els.cameraStats.textContent = camera.answers ? `Stopped after ${camera.answers} frames.` : "";
    if (els.stage.dataset.mode === "camera") {
      els.stage.dataset.mode = "empty";
      els.placeholder.hidden = false;
      els.detectSummary.textContent = "";
      els.detectionsList.replaceChildren();
      setDetectionCount(0, "No image yet");
    }
  }

  els.cameraButton.addEventListener("click", () => {
    if (camera.active) stopCamera(); else startCamera();
  });
  window.addEventListener("pagehide", stopCamera);

  // ---------------------------------------------------------------- start

  pollReady();
})();
