// Deleting footage (the video page's button, the case page's footage table): asks first, and says
// why when the server refuses. The buttons are only there for those the server lets delete it.
import { api } from "./dom.js";

// Wires every button.video-delete under root; onDeleted(button) runs once the footage is gone.
export function wireVideoDeletes(root, onDeleted) {
  const errorBox = document.getElementById("video-delete-error");
  root.querySelectorAll("button.video-delete").forEach((button) => {
    button.addEventListener("click", async () => {
      const name = button.dataset.name;
      if (!window.confirm("Delete " + name + " with the people found in it, their thumbnails and their search index entries? "
        + "This cannot be undone; the ledger keeps a record of the deletion.")) return;
      if (errorBox) errorBox.hidden = true;
      button.disabled = true;
      try {
        await api("DELETE", "/api/videos/" + button.dataset.video + "/");
        onDeleted(button);
      } catch (err) {
        button.disabled = false;
        if (errorBox) {
          errorBox.textContent = name + " was not deleted: " + err.message;
          errorBox.hidden = false;
        }
      }
    });
  });
}
