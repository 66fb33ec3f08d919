// The document view: the page image with the selected box, cells edited in place, checks that
// re-evaluate on every save, paragraph corrections, undo, and the keyboard (j/k/n, Enter/Esc/Tab).
import { api, errorMessage, toast } from "./api.js";

const data = JSON.parse(document.getElementById("doc-data").textContent);
const docId = data.id;
let etag = data.etag;
const undoStack = [];

// --- the page image ---------------------------------------------------------------------------
const img = document.getElementById("page-image");
const frame = document.getElementById("page-frame");
const box = document.getElementById("page-box");
let page = 1;
let zoom = 1;

function showPage(n) {
  if (!img || n < 1 || n > data.pages.length) return;
  if (n !== page) {
    page = n;
    img.src = `/v1/documents/${docId}/pages/${n}.png`;
    img.alt = `Page ${n} of the document`;
    document.getElementById("page-number").textContent = String(n);
    box.hidden = true;
  }
}

function setZoom(z) {
  if (!frame) return;
  zoom = Math.min(4, Math.max(0.5, z));
  frame.style.width = `${zoom * 100}%`;
  document.getElementById("zoom-level").textContent = `${Math.round(zoom * 100)}%`;
}

function showBox(el) {
  if (!img || !el?.dataset.page || !el.dataset.bbox) {
    if (box) box.hidden = true;
    return;
  }
  const n = Number(el.dataset.page);
  const info = data.pages[n - 1];
  if (!info?.width || !info?.height) return;
  showPage(n);
  const [x0, y0, x1, y1] = el.dataset.bbox.split(",").map(Number);
  // Percentages of the page in PDF points: right at any zoom and any rendering resolution.
  box.style.left = `${(x0 / info.width) * 100}%`;
  box.style.top = `${(y0 / info.height) * 100}%`;
  box.style.width = `${((x1 - x0) / info.width) * 100}%`;
  box.style.height = `${((y1 - y0) / info.height) * 100}%`;
  box.hidden = false;
  // Scroll the image pane only: moving the whole page would pull the table from under the pointer.
  const pane = document.getElementById("page-scroll");
  pane.scrollTop = box.offsetTop - pane.clientHeight / 2 + box.offsetHeight / 2;
  pane.scrollLeft = box.offsetLeft - pane.clientWidth / 2 + box.offsetWidth / 2;
}

document.getElementById("prev-page")?.addEventListener("click", () => showPage(page - 1));
document.getElementById("next-page")?.addEventListener("click", () => showPage(page + 1));
document.getElementById("zoom-in")?.addEventListener("click", () => setZoom(zoom * 1.25));
document.getElementById("zoom-out")?.addEventListener("click", () => setZoom(zoom / 1.25));
document.getElementById("zoom-fit")?.addEventListener("click", () => setZoom(1));

// --- cells ---------------------------------------------------------------------------------------
const cells = () => [...document.querySelectorAll("td[data-cell-id]")];
const cellEl = (id) => document.querySelector(`td[data-cell-id="${CSS.escape(id)}"]`);

function shownValue(cell) {
  if (cell.value !== null && cell.value !== undefined) return String(cell.value);
  return cell.blank ? "—" : "";
}

function select(td) {
  for (const el of document.querySelectorAll("td.selected")) el.classList.remove("selected");
  td.classList.add("selected");
  showBox(td);
}

function setMarks(td, cell) {
  for (const m of td.querySelectorAll(".mark")) m.remove();
  const flags = [];
  if (cell.corrected) flags.push(["corrected", "✎"]);
  if (cell.missing) flags.push(["missing", "∅"]);
  if (cell.repaired_by) flags.push(["repaired", "R"]);
  if (cell.inferred) flags.push(["inferred", "Σ"]);
  td.dataset.flags = flags.map((f) => f[0]).join(" ");
  for (const [flag, symbol] of flags) {
    const span = document.createElement("span");
    span.className = `mark mark-${flag}`;
    span.setAttribute("aria-hidden", "true");
    span.textContent = symbol;
    td.append(span);
  }
  const label = td.getAttribute("aria-label").split(":")[0];
  td.setAttribute("aria-label", `${label}: ${shownValue(cell) || "empty"}${cell.corrected ? ", corrected by a reviewer" : ""}`);
}

function applyChecks(checks, failing) {
  const inFailing = new Set();
  for (const c of checks) {
    const li = document.querySelector(`li[data-check-id="${CSS.escape(c.id)}"]`);
    if (c.status === "fail") for (const id of c.cells) inFailing.add(id);
    if (!li) continue;
    li.dataset.status = c.status;
    li.querySelector(".status-text").textContent =
      { fail: "Fails", not_assessable: "Not assessable", warn: "Warning", pass: "Passes" }[c.status] ?? c.status;
    li.querySelector(".expected").textContent = c.expected ?? "–";
    li.querySelector(".actual").textContent = c.actual ?? "–";
  }
  for (const td of cells()) td.classList.toggle("in-failing", inFailing.has(td.dataset.cellId));
  const count = document.getElementById("failing-count");
  if (count) count.textContent = String(failing);
  count?.closest(".badge")?.classList.toggle("fail", failing > 0);
  count?.closest(".badge")?.classList.toggle("pass", failing === 0);
}

function bumpHistory() {
  const el = document.getElementById("history-count");
  if (el) el.textContent = String(Number(el.textContent) + 1);
}

async function saveCell(td, text, { reason, isUndo = false } = {}) {
  const id = td.dataset.cellId;
  const before = td.querySelector(".value").textContent;
  const value = text.trim() === "" || text.trim() === "—" ? null : text.trim();
  const why = reason ?? document.getElementById("reason")?.value ?? "";
  const r = await api("PATCH", `/v1/documents/${docId}/cells/${encodeURIComponent(id)}`, { value, reason: why }, { "If-Match": etag });
  if (r.status === 412 || r.status === 428) return conflict(td, text, why, r);
  if (!r.ok) {
    toast(`Not saved: ${errorMessage(r)}`, "error");
    return false;
  }
  etag = r.etag ?? etag;
  td.querySelector(".value").textContent = shownValue(r.data.cell);
  setMarks(td, r.data.cell);
  applyChecks(r.data.checks, r.data.failing_checks);
  if (!isUndo) {
    undoStack.push({ id, value: before });
    document.getElementById("undo").disabled = false;
  }
  bumpHistory();
  const changed = r.data.changed_checks.map((c) => `${c.id}: ${c.after}`).join(", ");
  toast(`Saved ${id}${changed ? ` · ${changed}` : ""}`);
  return true;
}

// A stale edit: show what the other reviewer saved and let the person choose; never overwrite.
function conflict(td, text, reason, r) {
  const err = r.data?.error ?? {};
  const theirs = err.cell ? shownValue(err.cell) : "";
  const dialog = document.getElementById("conflict");
  document.getElementById("conflict-text").textContent =
    `${td.dataset.cellId} now reads “${theirs}” (someone saved it after you opened this page). You entered “${text}”.`;
  return new Promise((resolve) => {
    const mine = document.getElementById("conflict-mine");
    const keep = document.getElementById("conflict-theirs");
    const done = async (useMine) => {
      mine.onclick = keep.onclick = null;
      dialog.close();
      etag = err.etag ?? etag;
      if (useMine) {
        resolve(await saveCell(td, text, { reason }));
      } else {
        if (err.cell) {
          td.querySelector(".value").textContent = theirs;
          setMarks(td, err.cell);
        }
        toast("Kept the other reviewer's value; reload to see all their changes.");
        resolve("kept");
      }
    };
    mine.onclick = () => done(true);
    keep.onclick = () => done(false);
    dialog.showModal();
  });
}

function edit(td) {
  if (!data.canEdit || td.querySelector("input")) return;
  const span = td.querySelector(".value");
  const old = span.textContent;
  const input = document.createElement("input");
  input.value = old;
  input.className = "cell-input";
  input.setAttribute("aria-label", `New value for ${td.getAttribute("aria-label").split(":")[0]}`);
  span.hidden = true;
  td.prepend(input);
  input.focus();
  input.select();
  let busy = false;
  const close = () => {
    input.remove();
    span.hidden = false;
  };
  input.addEventListener("keydown", async (e) => {
    if (e.key === "Escape") {
      e.preventDefault();
      close();
      td.focus();
    } else if (e.key === "Enter" || e.key === "Tab") {
      e.preventDefault();
      if (busy) return;
      busy = true;
      const changed = input.value !== old;
      const outcome = changed ? await saveCell(td, input.value) : true;
      busy = false;
      if (outcome === false) return input.focus(); // not saved: keep what the person typed
      if (outcome === "kept") {
        close();
        return td.focus();
      }
      close();
      if (e.key === "Tab") {
        const all = cells();
        const next = all[all.indexOf(td) + (e.shiftKey ? -1 : 1)];
        if (next) {
          select(next);
          next.focus();
          edit(next);
          return;
        }
      }
      td.focus();
    }
  });
  input.addEventListener("blur", () => {
    if (!busy) setTimeout(() => input.isConnected && !busy && close(), 150);
  });
}

for (const td of cells()) {
  td.addEventListener("click", () => select(td));
  td.addEventListener("focus", () => select(td));
  td.addEventListener("dblclick", () => edit(td));
  td.addEventListener("keydown", (e) => {
    if (e.target !== td) return;
    if (e.key === "Enter" || e.key === "F2") {
      e.preventDefault();
      edit(td);
    }
  });
}

document.getElementById("undo")?.addEventListener("click", async () => {
  const last = undoStack.pop();
  if (!last) return;
  const td = cellEl(last.id);
  await saveCell(td, last.value, { reason: `undo: back to “${last.value}”`, isUndo: true });
  document.getElementById("undo").disabled = undoStack.length === 0;
});

// --- checks ---------------------------------------------------------------------------------------
for (const li of document.querySelectorAll("li[data-check-id]")) {
  li.querySelector("button").addEventListener("click", () => {
    for (const el of document.querySelectorAll(".highlight")) el.classList.remove("highlight");
    for (const el of document.querySelectorAll("li.active")) el.classList.remove("active");
    li.classList.add("active");
    const ids = li.dataset.cells.split(" ").filter(Boolean);
    const tds = ids.map(cellEl).filter(Boolean);
    for (const td of tds) td.classList.add("highlight");
    const detail = document.getElementById("check-detail");
    detail.textContent = `${li.dataset.checkId}: ${li.querySelector(".status-text").textContent}; expected ${li.querySelector(".expected").textContent}, actual ${li.querySelector(".actual").textContent}; ${tds.length} cells highlighted.`;
    const first = tds.find((td) => td.dataset.bbox) ?? tds[0];
    if (first) {
      first.scrollIntoView({ block: "center", behavior: "instant" });
      showBox(first);
    }
  });
}

// --- paragraphs -----------------------------------------------------------------------------------
async function saveParagraph(li, body) {
  const n = li.dataset.paragraph;
  const reason = document.getElementById("reason")?.value ?? "";
  let r = await api("PATCH", `/v1/documents/${docId}/paragraphs/${n}`, { ...body, reason }, { "If-Match": etag });
  if (r.status === 412 || r.status === 428) {
    const theirs = r.data?.error?.paragraph;
    const ok = window.confirm(
      `Paragraph ${n} was changed by someone else meanwhile (label: ${theirs?.label ?? "none"}). Save yours anyway?`,
    );
    if (!ok) return false;
    etag = r.data?.error?.etag ?? etag;
    r = await api("PATCH", `/v1/documents/${docId}/paragraphs/${n}`, { ...body, reason }, { "If-Match": etag });
  }
  if (!r.ok) {
    toast(`Not saved: ${errorMessage(r)}`, "error");
    return false;
  }
  etag = r.etag ?? etag;
  li.dataset.label = r.data.paragraph.label ?? "";
  li.querySelector(".para-text").textContent = r.data.paragraph.text;
  bumpHistory();
  toast(`Saved paragraph ${n}`);
  return true;
}

for (const li of document.querySelectorAll("li[data-paragraph]")) {
  li.addEventListener("click", () => showBox(li));
  li.querySelector(".para-label")?.addEventListener("change", (e) => {
    const label = e.target.value;
    saveParagraph(li, label ? { label } : { clear_label: true });
  });
  li.querySelector(".para-edit")?.addEventListener("click", () => {
    const p = li.querySelector(".para-text");
    if (li.querySelector("textarea")) return;
    const area = document.createElement("textarea");
    area.value = p.textContent;
    area.rows = 5;
    area.setAttribute("aria-label", `Text of paragraph ${li.dataset.paragraph}`);
    const save = document.createElement("button");
    save.type = "button";
    save.textContent = "Save text";
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.textContent = "Cancel";
    const done = () => {
      area.remove();
      save.remove();
      cancel.remove();
      p.hidden = false;
    };
    save.addEventListener("click", async () => (await saveParagraph(li, { text: area.value })) && done());
    cancel.addEventListener("click", done);
    area.addEventListener("keydown", (e) => e.key === "Escape" && done());
    p.hidden = true;
    p.after(area, save, cancel);
    area.focus();
  });
}

// --- keyboard ------------------------------------------------------------------------------------
let flaggedIndex = -1;
document.addEventListener("keydown", (e) => {
  const t = e.target;
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  if (t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement) return;
  if (document.querySelector("dialog[open]")) return;
  if (e.key === "j" || e.key === "k") {
    const flagged = data.flagged.map(cellEl).filter(Boolean);
    if (!flagged.length) return toast("No flagged cells.");
    flaggedIndex = (flaggedIndex + (e.key === "j" ? 1 : -1) + flagged.length) % flagged.length;
    const td = flagged[flaggedIndex];
    td.focus();
    td.scrollIntoView({ block: "center", behavior: "instant" });
  } else if (e.key === "n") {
    document.getElementById("next-doc")?.click();
  }
});
