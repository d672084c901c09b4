// Every search runs in the case the page works in and says why; the last reason given in a case
// is offered again on its next search page.

export function currentCase() {
  return document.body.dataset.case ? Number(document.body.dataset.case) : null;
}

export function justificationField(form) {
  const key = "longview-justification-" + currentCase();
  const input = form.justification;
  if (input && !input.value) input.value = sessionStorage.getItem(key) || "";
  return {
    value: () => (input ? input.value.trim() : ""),
    remember: () => { if (input) sessionStorage.setItem(key, input.value.trim()); },
    focus: () => { if (input) input.focus(); },
  };
}
