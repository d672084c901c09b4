// Confirm and reject on result cards, for the subject being worked on in this case.
//
// A page that shows results calls ``subjectDecisions``: it draws the "working on" bar, adds a
// confirm and a reject button to every result card (``decorate``), and answers the keyboard on the
// focused card: c / y confirm, x / n reject, u undo, arrows or j / k move between cards.
import { api, el } from "./dom.js";
import { currentCase } from "./purpose.js";

const storeKey = () => "longview-subject-" + currentCase();

export function activeSubject() {
  const stored = sessionStorage.getItem(storeKey());
  return stored ? Number(stored) : null;
}

export function setActiveSubject(id) {
  if (id) sessionStorage.setItem(storeKey(), String(id));
  else sessionStorage.removeItem(storeKey());
}

function decisionLabel(decision) {
  return decision === "confirmed" ? "✓ confirmed" : decision === "rejected" ? "✗ rejected" : "";
}

// Marks a card with a decision (or none) as the server recorded it.
export function markCard(card, decision, by) {
  if (decision) card.dataset.decision = decision;
  else delete card.dataset.decision;
  const note = card.querySelector(".decision");
  if (note) note.textContent = decision ? decisionLabel(decision) + (by ? " by " + by : "") : "";
}

// A card's flags, as the subject search set them: travel-time doubts and look-alikes of a rejected sighting.
export function flagCard(card, hit) {
  const reasons = [];
  if (hit.travel) reasons.push("⚠ " + hit.travel.reason);
  if (hit.like_rejected) reasons.push("looks more like a rejected sighting");
  if (!reasons.length) return;
  card.dataset.flagged = "1";
  card.appendChild(el("small", { class: "flag", text: reasons.join(" · ") }));
}

export function subjectDecisions({ bar, makeFrom, onChange, status }) {
  let subjects = [];
  let subject = activeSubject();
  let searchId = null;
  const select = el("select", { "aria-label": "Subject being worked on", id: "subject-select" });
  const makeButton = el("button", { type: "button", class: "secondary", id: "subject-new" });
  const openLink = el("a", { id: "subject-open", text: "open the subject's page" });
  const hint = el("small", { class: "hint", text: "With a card focused: c confirm · x reject · u undo · ←/→ move" });

  function say(text) { if (status) status.textContent = text; }

  function draw() {
    select.replaceChildren(el("option", { value: "", text: "— no subject: decisions off —" }),
      ...subjects.map((s) => el("option", { value: String(s.id), text: s.label + " (" + s.confirmed + " confirmed)" })));
    select.value = subject ? String(subject) : "";
    openLink.hidden = !subject;
    if (subject) openLink.href = "/subjects/" + subject + "/";
    document.body.dataset.subject = subject ? String(subject) : "";
    makeButton.textContent = makeFrom.label;
    makeButton.hidden = !makeFrom.ready();
  }

  async function load() {
    if (!currentCase()) return;
    subjects = await api("GET", "/api/subjects/?case=" + currentCase());
    if (subject && !subjects.some((s) => s.id === subject)) { subject = null; setActiveSubject(null); }
    draw();
  }

  select.addEventListener("change", () => {
    subject = select.value ? Number(select.value) : null;
    setActiveSubject(subject);
    draw();
    if (onChange) onChange(subject);
  });
  makeButton.addEventListener("click", async () => {
    const label = prompt("A name or label for the subject (e.g. \"woman in red coat\")");
    if (!label) return;
    try {
      const made = await api("POST", "/api/subjects/", JSON.stringify({ case: currentCase(), label, ...makeFrom.body(searchId) }),
        { "Content-Type": "application/json" });
      subject = made.id;
      setActiveSubject(subject);
      await load();
      say("Subject \"" + made.label + "\" made" + (made.confirmed ? " with this person as its first sighting." : "."));
      if (onChange) onChange(subject);
    } catch (err) { say("Could not make the subject: " + err.message); }
  });
  bar.replaceChildren(el("label", { class: "subject-pick", text: "Working on " }, [select]), makeButton, openLink, hint);
  load().catch((err) => say("Subjects unavailable: " + err.message));

  async function decide(card, decision) {
    if (!subject) { say("Choose or make a subject first: decisions belong to a subject."); return; }
    const tracklet = Number(card.dataset.tracklet);
    try {
      if (decision === null) {
        await api("DELETE", "/api/subjects/" + subject + "/sightings/" + tracklet + "/");
      } else {
        const body = { tracklet, decision };
        if (searchId) body.search = searchId;
        await api("POST", "/api/subjects/" + subject + "/sightings/", JSON.stringify(body), { "Content-Type": "application/json" });
      }
      markCard(card, decision);
      load().catch(() => {});
    } catch (err) { say("Not recorded: " + err.message); }
  }

  document.addEventListener("click", (ev) => {
    const button = ev.target.closest("button.decide");
    if (!button) return;
    const card = button.closest(".person.result");
    if (card) decide(card, button.dataset.decision || null);
  });
  document.addEventListener("keydown", (ev) => {
    const card = document.activeElement && document.activeElement.closest && document.activeElement.closest(".person.result");
    if (!card || ev.ctrlKey || ev.metaKey || ev.altKey || ["INPUT", "SELECT", "TEXTAREA"].includes(ev.target.tagName)) return;
    const key = ev.key.toLowerCase();
    if (key === "c" || key === "y") { ev.preventDefault(); decide(card, "confirmed"); }
    else if (key === "x" || key === "n") { ev.preventDefault(); decide(card, "rejected"); }
    else if (key === "u") { ev.preventDefault(); decide(card, null); }
    else if (["arrowright", "arrowdown", "j", "arrowleft", "arrowup", "k"].includes(key)) {
      const cards = [...document.querySelectorAll(".person.result")];
      const step = ["arrowright", "arrowdown", "j"].includes(key) ? 1 : -1;
      const next = cards[cards.indexOf(card) + step];
      if (next) { ev.preventDefault(); next.focus(); }
    }
  });

  return {
    subject: () => subject,
    setSearch: (id) => { searchId = id; draw(); },
    refresh: load,
    // Adds the decision buttons to a result card.
    decorate(card, hit) {
      card.tabIndex = 0;
      card.append(
        el("div", { class: "decide-row" }, [
          el("button", { type: "button", class: "decide confirm", "data-decision": "confirmed", title: "This is the subject (c)", text: "✓" }),
          el("button", { type: "button", class: "decide reject", "data-decision": "rejected", title: "Not the subject (x)", text: "✗" }),
        ]),
        el("small", { class: "decision" }),
      );
      if (hit) flagCard(card, hit);
      return card;
    },
  };
}
