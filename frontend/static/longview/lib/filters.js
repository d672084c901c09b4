// The filter form of the search pages: cameras and galleries from the API, read into the filters
// a search request carries.
import { api, el } from "./dom.js";

export async function fillFilterChoices(form) {
  const [cameras, galleries] = await Promise.all([
    api("GET", "/api/cameras/?limit=1000"), api("GET", "/api/galleries/?limit=1000"),
  ]);
  const galleryName = {};
  galleries.results.forEach((g) => {
    galleryName[g.id] = g.name;
    form.gallery.appendChild(el("option", { value: String(g.id), text: g.name }));
  });
  cameras.results.forEach((c) => {
    const text = c.gallery ? c.name + " (" + galleryName[c.gallery] + ")" : c.name;
    form.cameras.appendChild(el("option", { value: String(c.id), text: text }));
  });
  form.dataset.ready = "1";
}

// ``minProbability`` is what a garment colour condition asks for; the server says how much.
export function readFilters(form, minProbability) {
  const filters = {};
  const cameras = Array.from(form.cameras.selectedOptions).map((o) => Number(o.value));
  if (cameras.length) filters.cameras = cameras;
  if (form.gallery.value) filters.galleries = [Number(form.gallery.value)];
  // datetime-local holds the browser's local time; the server wants an absolute instant.
  if (form.from.value) filters.from = new Date(form.from.value).toISOString();
  if (form.to.value) filters.to = new Date(form.to.value).toISOString();
  const attributes = [];
  ["upper_colour", "lower_colour"].forEach((name) => {
    if (form[name] && form[name].value) attributes.push({ attribute: name, value: form[name].value, min_probability: minProbability });
  });
  if (attributes.length) filters.attributes = attributes;
  return filters;
}
