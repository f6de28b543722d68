// Watchbill: small enhancements only; every page works without this file.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // "Copy" buttons next to URLs (calendar feeds, tokens).
  for (const button of document.querySelectorAll("button[data-copy]")) {
    button.hidden = false;
    button.addEventListener("click", async () => {
      const source = document.getElementById(button.dataset.copy);
      if (!source) return;
      const text = source.value !== undefined ? source.value : source.textContent;
      try {
        await navigator.clipboard.writeText(text.trim());
        button.textContent = "Copied";
      } catch (err) {
        if (source.select) source.select();
      }
    });
  }
  // Back to a page from the browser's cache: its buttons work again.
  window.addEventListener("pageshow", () => {
    for (const b of document.querySelectorAll("button[type=submit]")) b.disabled = false;
  });
  // A form sent once: its buttons wait, so a double tap at 3 a.m. does not act twice.
  for (const form of document.querySelectorAll("form")) {
    form.addEventListener("submit", () => {
      setTimeout(() => {
        for (const b of form.querySelectorAll("button[type=submit]")) b.disabled = true;
      }, 0);
    });
  }
});
