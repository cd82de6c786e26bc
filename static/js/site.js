// Progressive enhancement only: every link works without this file.
// "Keep reading" expands a teaser in place; "Show less" collapses it again.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a.keep-reading[data-expands]") : null;
    if (!link || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey || event.button !== 0) {
      return;
    }
    var more = document.getElementById(link.getAttribute("data-expands"));
    if (!more) {
      return;
    }
    event.preventDefault();
    var label = link.firstChild;
    if (more.hidden) {
      more.hidden = false;
      link.setAttribute("aria-expanded", "true");
      label.nodeValue = "Show less";
    } else {
      more.hidden = true;
      link.setAttribute("aria-expanded", "false");
      label.nodeValue = "Keep reading";
    }
  });
  // Links that expand get the state screen readers announce.
  var links = document.querySelectorAll("a.keep-reading[data-expands]");
  for (var i = 0; i < links.length; i++) {
    links[i].setAttribute("aria-expanded", "false");
    links[i].setAttribute("aria-controls", links[i].getAttribute("data-expands"));
  }
})();
