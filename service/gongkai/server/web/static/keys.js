// Keys (admins): create a key (its secret is shown once) and revoke keys, through /v1/keys.
import { api, errorMessage, toast } from "./api.js";

const form = document.getElementById("new-key");
const secret = document.getElementById("new-key-secret");
form?.addEventListener("submit", async (e) => {
  e.preventDefault();
  const data = Object.fromEntries(new FormData(form));
  if (!data.scope) delete data.scope;
  const r = await api("POST", "/v1/keys", data);
  if (!r.ok) return toast(`Not created: ${errorMessage(r)}`, "error");
  secret.hidden = false;
  secret.textContent = `New ${r.data.role} key (shown once, copy it now): ${r.data.key}`;
});
for (const button of document.querySelectorAll("button.revoke")) {
  button.addEventListener("click", async () => {
    const id = button.dataset.keyId;
    if (!window.confirm(`Revoke key ${id}? Its sessions end too.`)) return;
    const r = await api("DELETE", `/v1/keys/${id}`);
    if (!r.ok) return toast(`Not revoked: ${errorMessage(r)}`, "error");
    button.replaceWith("revoked");
  });
}
