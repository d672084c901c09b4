// Every page's case switcher, and the case pages: open a case, manage members, close or reopen.
import { api } from "../lib/dom.js";

// JSON in, JSON out, errors as exceptions with the server's detail.
function call(method, url, body) {
  if (body === undefined) return api(method, url);
  return api(method, url, JSON.stringify(body), { "Content-Type": "application/json" });
}

function showError(box, err) {
  box.textContent = err.message;
  box.hidden = false;
}

function initSwitcher() {
  const select = document.getElementById("case-switcher");
  if (!select) return;
  select.addEventListener("change", () => {
    if (select.value) window.location.href = "/cases/" + select.value + "/";
  });
}

function initCaseForm() {
  const form = document.getElementById("case-form");
  if (!form) return;
  const soon = new Date(Date.now() + 180 * 86400000);
  form.retention_until.value = soon.toISOString().slice(0, 10);
  const errorBox = document.getElementById("case-error");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    errorBox.hidden = true;
    try {
      const created = await call("POST", "/api/cases/", {
        title: form.title.value, reference: form.reference.value, purpose: form.purpose.value,
        retention_until: form.retention_until.value,
      });
      window.location.href = "/cases/" + created.id + "/";
    } catch (err) { showError(errorBox, err); }
  });
}

function initCasePage() {
  const page = document.getElementById("case-page");
  if (!page) return;
  const caseId = page.dataset.case;
  const toggle = document.getElementById("case-toggle");
  if (toggle) {
    toggle.addEventListener("click", async () => {
      try {
        await call("POST", "/api/cases/" + caseId + "/status/", { status: toggle.dataset.next });
        window.location.reload();
      } catch (err) { window.alert(err.message); }
    });
  }
  const form = document.getElementById("member-form");
  if (form) {
    const errorBox = document.getElementById("member-error");
    const members = new Set(Array.from(document.querySelectorAll("#members tr[data-user]")).map((r) => r.dataset.user));
    call("GET", "/api/users/").then((users) => {
      users.filter((u) => !members.has(String(u.id))).forEach((u) => {
        const option = document.createElement("option");
        option.value = String(u.id);
        option.textContent = u.username;
        form.user.append(option);
      });
    }).catch((err) => showError(errorBox, err));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      errorBox.hidden = true;
      try {
        await call("POST", "/api/cases/" + caseId + "/members/", { user: Number(form.user.value), role: form.role.value });
        window.location.reload();
      } catch (err) { showError(errorBox, err); }
    });
  }
  document.querySelectorAll(".member-remove").forEach((button) => {
    button.addEventListener("click", async () => {
      try {
        await call("DELETE", "/api/cases/" + caseId + "/members/" + button.dataset.user + "/");
        window.location.reload();
      } catch (err) { window.alert(err.message); }
    });
  });
}

initSwitcher();
initCaseForm();
initCasePage();
