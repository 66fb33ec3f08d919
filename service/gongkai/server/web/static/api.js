// Calls to the JSON API from a signed-in page: the session cookie goes along by itself; a write
// also carries the session's CSRF token, which the server requires of every cookie-borne write.
const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";

export async function api(method, url, body, headers = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers }, credentials: "same-origin" };
  if (method !== "GET") init.headers["X-CSRF-Token"] = csrf;
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(url, init);
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  return { status: response.status, ok: response.ok, data, etag: response.headers.get("ETag") };
}

// Upload with progress: fetch cannot report upload progress, XMLHttpRequest can.
export function upload(file, onProgress) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/v1/documents");
    xhr.setRequestHeader("X-CSRF-Token", csrf);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onload = () => {
      let data = null;
      try {
        data = JSON.parse(xhr.responseText);
      } catch {
        data = null;
      }
      resolve({ status: xhr.status, data });
    };
    xhr.onerror = () => resolve({ status: 0, data: { error: { message: "the connection failed" } } });
    const form = new FormData();
    form.append("file", file);
    xhr.send(form);
  });
}

export function toast(message, kind = "info") {
  const el = document.getElementById("toast");
  if (!el) return;
  el.textContent = message;
  el.dataset.kind = kind;
  el.classList.add("shown");
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => el.classList.remove("shown"), 4000);
}

export function errorMessage(result) {
  return result.data?.error?.message ?? `the server answered ${result.status}`;
}
