// Django's autocomplete boxes (select2) draw a role=combobox with no accessible name, and
// an empty one's text box has none either: give both the label of the <select> they
// stand for. Runs for boxes that appear later too (a byline row added).
"use strict";
{
  const labelFor = (select) => {
    const label = select.getAttribute("aria-label") || (document.querySelector(`label[for='${select.id}']`) || {}).textContent || select.name;
    return label.replace(/:\s*$/, "").trim();
  };
  const nameAll = () => {
    document.querySelectorAll("select.admin-autocomplete").forEach((select) => {
      const container = select.nextElementSibling;
      if (!container || !container.classList.contains("select2")) return;
      const name = labelFor(select);
      container.querySelectorAll("[role=combobox], .select2-selection__rendered").forEach((box) => {
        if (box.getAttribute("aria-label") !== name) box.setAttribute("aria-label", name);
      });
    });
  };
  const start = () => {
    nameAll();
    new MutationObserver(nameAll).observe(document.body, { childList: true, subtree: true });
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
  window.addEventListener("load", nameAll);
}
