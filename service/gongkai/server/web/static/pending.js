// A document still being read: poll its status and open the result when it is done.
import { api } from "./api.js";

const box = document.getElementById("pending");
const id = box?.dataset.documentId;
async function poll() {
  const r = await api("GET", `/v1/documents/${id}`);
  if (r.ok && r.data.status !== box.dataset.status) {
    window.location.reload();
    return;
  }
  if (!r.ok || r.data.status === "queued" || r.data.status === "processing") setTimeout(poll, 1500);
}
if (id && (box.dataset.status === "queued" || box.dataset.status === "processing")) setTimeout(poll, 1500);
