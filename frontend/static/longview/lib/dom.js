// Small DOM and HTTP helpers every page uses.

export function el(tag, attrs, children) {
  const node = document.createElement(tag);
  Object.entries(attrs || {}).forEach(([k, v]) => {
    if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  });
  (children || []).forEach((c) => node.appendChild(c));
  return node;
}

export function fmtEta(s) {
  if (s === null || s === undefined) return "";
  if (s < 60) return Math.round(s) + " s left";
  return Math.round(s / 60) + " min left";
}

// The JSON a template wrote with json_script.
export function pageData(id) {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : null;
}

function cookie(name) {
  const m = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
  return m ? decodeURIComponent(m[1]) : "";
}

export async function api(method, url, body, headers) {
  const opts = { method, headers: Object.assign({ "X-CSRFToken": cookie("csrftoken") }, headers || {}), credentials: "same-origin" };
  if (body !== undefined) opts.body = body;
  const resp = await fetch(url, opts);
  let data = null;
  try { data = await resp.json(); } catch (e) { data = null; }
  if (!resp.ok) {
    const err = new Error((data && data.detail) || ("request failed with HTTP " + resp.status));
    err.status = resp.status;
    err.data = data;
    throw err;
  }
  return data;
}
