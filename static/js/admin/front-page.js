// The front-page screen: reorder the rows by dragging their handle or with Move up/Move
// down buttons; the position inputs (what the form submits, and what works without
// JavaScript) are renumbered to match.
(function () {
  "use strict";

  function init() {
    var body = document.querySelector("[data-front-page-rows]");
    if (!body) return;
    document.body.classList.add("front-page--js");
    var dragged = null;

    function rows() {
      return Array.prototype.slice.call(body.querySelectorAll("[data-front-page-row]"));
    }

    function renumber() {
      rows().forEach(function (row, index) {
        var input = row.querySelector("input[name$='-position']");
        if (input) input.value = index;
        var label = row.querySelector("[data-front-page-label]");
        if (label) label.textContent = index === 0 ? "Lead" : String(index);
      });
    }

    function announce(row) {
      var status = document.getElementById("front-page-status");
      var index = rows().indexOf(row);
      status.textContent = "Moved to " + (index === 0 ? "lead" : "position " + index) + ".";
    }

    function move(row, offset) {
      var list = rows();
      var target = list[list.indexOf(row) + offset];
      if (!target) return;
      body.insertBefore(row, offset < 0 ? target : target.nextSibling);
      renumber();
      announce(row);
    }

    var status = document.createElement("p");
    status.id = "front-page-status";
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    body.closest("table").after(status);

    rows().forEach(function (row, index) {
      var cell = row.querySelector(".front-page__order");
      var handle = document.createElement("span");
      handle.className = "front-page__handle";
      handle.setAttribute("aria-hidden", "true");
      handle.textContent = "⠿";
      cell.prepend(handle);
      [["Move up", -1], ["Move down", 1]].forEach(function (pair) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "front-page__move";
        button.textContent = pair[1] < 0 ? "↑" : "↓";
        button.setAttribute("aria-label", pair[0] + " (row " + (index + 1) + ")");
        button.title = pair[0];
        button.addEventListener("click", function () { move(row, pair[1]); });
        cell.append(button);
      });
      row.draggable = true;
      row.addEventListener("dragstart", function (event) {
        dragged = row;
        row.classList.add("front-page__row--dragging");
        event.dataTransfer.effectAllowed = "move";
        event.dataTransfer.setData("text/plain", "row");
      });
      row.addEventListener("dragend", function () {
        row.classList.remove("front-page__row--dragging");
        dragged = null;
        renumber();
      });
      row.addEventListener("dragover", function (event) {
        if (!dragged || dragged === row) return;
        event.preventDefault();
        var box = row.getBoundingClientRect();
        var after = event.clientY > box.top + box.height / 2;
        body.insertBefore(dragged, after ? row.nextSibling : row);
      });
      row.addEventListener("drop", function (event) {
        event.preventDefault();
        renumber();
        if (dragged) announce(dragged);
      });
    });
    // Rows in the order of their positions (a form shown again after Preview or an
    // error keeps the order the editor gave it), empty rows last; then number them.
    var position = function (row) {
      var chosen = row.querySelector("select[name$='-article']");
      var input = row.querySelector("input[name$='-position']");
      var value = input && input.value !== "" ? Number(input.value) : 1e6;
      return chosen && chosen.value ? value : 2e6;
    };
    rows()
      .map(function (row, index) { return { row: row, key: [position(row), index] }; })
      .sort(function (a, b) { return a.key[0] - b.key[0] || a.key[1] - b.key[1]; })
      .forEach(function (item) { body.appendChild(item.row); });
    renumber();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
