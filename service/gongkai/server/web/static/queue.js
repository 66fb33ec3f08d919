// The queue: drag-and-drop upload with progress, and live status of documents being read.
import { api, errorMessage, upload } from "./api.js";

const list = document.getElementById("uploads");
const zone = document.getElementById("dropzone");
const input = document.getElementById("file-input");
const tbody = document.querySelector("#queue tbody");

function uploadItem(file) {
  const li = document.createElement("li");
  const name = document.createElement("span");
  name.textContent = file.name;
  const bar = document.createElement("progress");
  bar.max = 1;
  bar.value = 0;
  bar.setAttribute("aria-label", `Uploading ${file.name}`);
  const state = document.createElement("span");
  state.className = "upload-state";
  li.append(name, bar, state);
  list.prepend(li);
  return { li, bar, state };
}

async function send(files) {
  for (const file of files) {
    const item = uploadItem(file);
    const r = await upload(file, (p) => (item.bar.value = p));
    item.bar.value = 1;
    if (r.status === 202 || r.status === 200) {
      const doc = r.data;
      item.state.textContent = r.status === 200 ? "already uploaded" : "uploaded, queued";
      const link = document.createElement("a");
      link.href = `/review/documents/${doc.id}`;
      link.textContent = "open";
      item.li.append(" ", link);
      addRow(doc);
    } else {
      item.state.textContent = `refused: ${errorMessage(r)}`;
      item.li.classList.add("error");
    }
  }
}

function addRow(doc) {
  if (!tbody || tbody.querySelector(`tr[data-document-id="${doc.id}"]`)) return;
  tbody.querySelector("tr:not([data-document-id])")?.remove(); // "No documents match."
  const tr = document.createElement("tr");
  tr.dataset.documentId = doc.id;
  tr.dataset.status = doc.status;
  const fields = ["status", "agency", "year", "format", "failing", "to_review"];
  const first = document.createElement("td");
  const a = document.createElement("a");
  a.href = `/review/documents/${doc.id}`;
  a.textContent = doc.filename;
  first.append(a);
  tr.append(first);
  for (const f of fields) {
    const td = document.createElement("td");
    td.dataset.field = f;
    tr.append(td);
  }
  tr.append(document.createElement("td"), document.createElement("td"));
  tbody.prepend(tr);
  fill(tr, doc);
  watch(tr);
}

function fill(tr, doc) {
  tr.dataset.status = doc.status;
  const set = (f, text) => {
    const td = tr.querySelector(`[data-field="${f}"]`);
    if (td) td.textContent = text ?? "";
  };
  const status = tr.querySelector('[data-field="status"]');
  status.replaceChildren();
  const badge = document.createElement("span");
  badge.className = `status status-${doc.status}`;
  badge.textContent = doc.job && doc.status === "processing" ? `${doc.status} (${doc.job.stage})` : doc.status;
  status.append(badge);
  set("agency", doc.agency);
  set("year", doc.year);
  set("format", doc.format);
  set("failing", doc.failing_checks);
  set("to_review", doc.cells_to_review);
}

function watch(tr) {
  const id = tr.dataset.documentId;
  const tick = async () => {
    const r = await api("GET", `/v1/documents/${id}`);
    if (r.ok) fill(tr, r.data);
    if (!r.ok || r.data.status === "queued" || r.data.status === "processing") setTimeout(tick, 1500);
  };
  setTimeout(tick, 1500);
}

for (const tr of document.querySelectorAll("#queue tr[data-document-id]")) {
  if (tr.dataset.status === "queued" || tr.dataset.status === "processing") watch(tr);
}
if (zone) {
  zone.addEventListener("dragover", (e) => {
    e.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    send([...e.dataTransfer.files]);
  });
  document.getElementById("choose-files").addEventListener("click", () => input.click());
  input.addEventListener("change", () => {
    send([...input.files]);
    input.value = "";
  });
}
