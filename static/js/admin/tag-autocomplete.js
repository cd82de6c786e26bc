// Suggests existing tags while an editor types in the comma-separated tag field.
// The field is written the way taggit reads it back: names holding a comma or a space
// are in double quotes ("Gaza, Strip", "São Paulo"), so a suggestion is quoted too.
"use strict";
{
  // The text before the tag being typed, and the tag being typed, split at the last
  // comma that is not inside double quotes.
  const splitLast = (value) => {
    let quoted = false;
    let cut = -1;
    for (let i = 0; i < value.length; i += 1) {
      if (value[i] === '"') quoted = !quoted;
      else if (value[i] === "," && !quoted) cut = i;
    }
    return { before: value.slice(0, cut + 1), term: value.slice(cut + 1).trim().replace(/^"/, "") };
  };
  const asTaggitWrites = (name) => (/[ ,]/.test(name) ? `"${name}"` : name);

  const attach = (input) => {
    const list = document.getElementById(input.getAttribute("list"));
    if (!list) return;
    let timer = null;
    let lastTerm = "";
    input.addEventListener("input", () => {
      const { before, term } = splitLast(input.value);
      if (term.length < 2 || term === lastTerm) return;
      lastTerm = term;
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const url = `${input.dataset.autocompleteUrl}&term=${encodeURIComponent(term)}`;
        const response = await fetch(url, { credentials: "same-origin" });
        if (!response.ok) return;
        const data = await response.json();
        const prefix = before.trim() ? `${before.trim()} ` : "";
        list.replaceChildren(
          ...data.results.map((result) => {
            const option = document.createElement("option");
            option.value = prefix + asTaggitWrites(result.text);
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
