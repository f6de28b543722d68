// The team lead's desk: enhancements only (every page works without this file).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // Timeline bars: a tap or click shows who, from, to and source in a pop-up under the drawing.
  for (const figure of document.querySelectorAll(".tl-figure")) {
    const popup = figure.querySelector(".tl-popup");
    if (!popup) continue;
    for (const bar of figure.querySelectorAll("a.bar")) {
      bar.addEventListener("click", (event) => {
        event.preventDefault();
        popup.textContent = bar.dataset.details || "";
        const target = document.getElementById(bar.getAttribute("href").slice(1));
        if (target && target.querySelector("a")) {
          const link = target.querySelector("a").cloneNode(true);
          popup.append(" ", link);
        }
        popup.hidden = false;
      });
    }
  }

  // Rotation editor: reorder people without a round trip (buttons and drag and drop). The
  // order of the hidden inputs is what the form posts; button values are renumbered.
  const renumber = (list) => {
    const items = [...list.querySelectorAll(":scope > li")];
    items.forEach((item, j) => {
      for (const b of item.querySelectorAll("button[name=op]")) {
        b.value = b.value.replace(/:\d+$/, ":" + j);
        if (b.value.startsWith("user_up")) b.disabled = j === 0;
        if (b.value.startsWith("user_down")) b.disabled = j === items.length - 1;
      }
    });
    stale();
  };
  let dragged = null;
  for (const list of document.querySelectorAll("ol.people")) {
    list.addEventListener("click", (event) => {
      const b = event.target.closest("button[name=op]");
      if (!b || !/^user_(up|down)/.test(b.value)) return;
      event.preventDefault();
      const item = b.closest("li");
      if (b.value.startsWith("user_up") && item.previousElementSibling) {
        item.parentNode.insertBefore(item, item.previousElementSibling);
      } else if (b.value.startsWith("user_down") && item.nextElementSibling) {
        item.parentNode.insertBefore(item.nextElementSibling, item);
      }
      renumber(list);
      b.focus();
    });
    list.addEventListener("dragstart", (event) => {
      dragged = event.target.closest("li");
      if (dragged) dragged.classList.add("dragging");
    });
    list.addEventListener("dragend", () => {
      if (dragged) dragged.classList.remove("dragging");
      dragged = null;
      renumber(list);
    });
    list.addEventListener("dragover", (event) => {
      const over = event.target.closest("li");
      if (!dragged || !over || over === dragged || over.parentNode !== list) return;
      event.preventDefault();
      const box = over.getBoundingClientRect();
      const after = event.clientY > box.top + box.height / 2;
      list.insertBefore(dragged, after ? over.nextElementSibling : over);
    });
  }

  // A preview is of the form as it was: once the form changes, Save waits for a new preview.
  const editor = document.getElementById("rotation-editor") || document.getElementById("policy-editor");
  const preview = document.getElementById("preview");
  function stale() {
    if (!preview) return;
    preview.classList.add("stale");
    const save = preview.querySelector("button[data-save]");
    if (save && !save.dataset.warned) {
      save.dataset.warned = "1";
      const note = document.createElement("p");
      note.className = "problem";
      note.textContent = "The form changed since this preview: press Preview again before saving.";
      save.parentNode.before(note);
    }
  }
  if (editor && preview) {
    editor.addEventListener("change", (event) => {
      if (!event.target.closest("#preview")) stale();
    });
  }
});
