// Suggests existing tags while an editor types in the comma-separated tag field.
"use strict";
{
  const attach = (input) => {
    const list = document.getElementById(input.getAttribute("list"));
    if (!list) return;
    let timer = null;
    let lastTerm = "";
    input.addEventListener("input", () => {
      const parts = input.value.split(",");
      const term = parts[parts.length - 1].trim();
      if (term.length < 2 || term === lastTerm) return;
      lastTerm = term;
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const url = `${input.dataset.autocompleteUrl}&term=${encodeURIComponent(term)}`;
        const response = await fetch(url, { credentials: "same-origin" });
        if (!response.ok) return;
        const data = await response.json();
        const before = parts.slice(0, -1).map((part) => part.trim()).filter(Boolean);
        list.replaceChildren(
          ...data.results.map((result) => {
            const option = document.createElement("option");
            option.value = [...before, result.text].join(", ");
            return option;
          }),
        );
      }, 150);
    });
  };
  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("input[data-autocomplete-url]").forEach(attach);
  });
}
