// The writing-first article editor (progressive enhancement: the form works without it).
// - the pre-publish checklist follows the form as it changes, before any save, each item
//   a link to the field that fixes it; the lead image's preview shows as soon as it is
//   chosen;
// - autosave: every 10 s of change and on leaving the page, with "Saved 12 s ago"; a
//   published article's text is only kept as a revision (readers see nothing of it);
// - Ctrl/Cmd-S saves and stays: when only what autosave keeps changed in a draft (the
//   text, kind, section, lead image), it saves at once without a page load; anything else
//   (status, time, bylines, tags, or a public article) goes through the admin's own save;
// - bylines move up and down without a reload;
// - the body's editable area gets an accessible name.
"use strict";
{
  const AUTOSAVE_EVERY_MS = 10000;
  const CHECK_AFTER_MS = 400;

  const ready = (fn) => (document.readyState === "loading" ? document.addEventListener("DOMContentLoaded", fn) : fn());

  ready(() => {
    const root = document.querySelector("[data-article-editor]");
    const form = document.getElementById("article_form");
    if (!root || !form) return;
    const status = document.querySelector("[data-autosave-status]");
    const version = form.querySelector("input[name=expected_version]");
    let autosaveUrl = root.dataset.autosaveUrl;
    // Changed means: different from what was last saved (or loaded). Comparing the form's
    // values, not counting events, since the editors fire events of their own at start.
    const snapshot = () => {
      const values = new FormData(form);
      values.delete("expected_version");
      values.delete("csrfmiddlewaretoken");
      return new URLSearchParams(values).toString();
    };
    // The baseline is taken once the rich-text editor has settled (it rewrites the body it
    // loads); an editor who typed before that compares against the page as it came.
    const asLoaded = snapshot();
    // What autosave does not keep (status, time, bylines, tags…), as the page came: while it
    // is unchanged, Ctrl/Cmd-S can save through autosave and stay on the page.
    const autosaveFields = new Set((root.dataset.autosaveFields || "").split(" ").filter(Boolean));
    const others = () => {
      const values = new FormData(form);
      Array.from(values.keys()).forEach((name) => {
        if (autosaveFields.has(name) || name === "expected_version" || name === "csrfmiddlewaretoken") values.delete(name);
      });
      return new URLSearchParams(values).toString();
    };
    const othersAsLoaded = others();
    let saved = null;
    window.addEventListener("load", () => setTimeout(() => { saved = dirty ? asLoaded : snapshot(); }, 300));
    let dirty = false;
    let submitting = false;
    let savedAt = null;
    let saving = false;
    let problem = "";
    let conflicted = false;
    let checkTimer = null;

    // --- The live checklist and the lead image preview --------------------------------
    const checklist = () => document.querySelector("[data-live-checklist]");
    const preview = () => document.querySelector("[data-lead-image-preview]");

    const element = (tag, attrs = {}, text = "") => {
      const node = document.createElement(tag);
      Object.entries(attrs).forEach(([name, value]) => node.setAttribute(name, value));
      if (text) node.textContent = text;
      return node;
    };

    const showChecklist = (items) => {
      const box = checklist();
      if (!box) return;
      box.replaceChildren();
      if (!items.length) {
        box.append(element("p", { class: "checklist checklist--ok" }, "Ready to publish."));
        return;
      }
      const list = element("ul", { class: "checklist" });
      items.forEach((item) => {
        const link = element("a", { href: `#${item.anchor}`, "data-field": item.field }, item.message);
        const li = element("li");
        li.append(link);
        list.append(li);
      });
      box.append(list);
    };

    const showLeadImage = (image) => {
      const box = preview();
      if (!box) return;
      box.replaceChildren();
      const caption = form.querySelector("#id_lead_image_caption");
      if (!image) {
        box.append(element("p", { class: "lead-preview__empty" }, "No lead image chosen."));
        if (caption) caption.placeholder = "";
        return;
      }
      box.append(element("img", { src: image.url, alt: image.alt, width: image.width, height: image.height, class: "lead-preview__image" }));
      box.append(element("p", { class: "lead-preview__caption" }, image.caption || "No caption on the image."));
      const credit = element("p", { class: "lead-preview__credit" }, image.credit || "No credit");
      if (image.expired) credit.append(" ", element("strong", { class: "warning" }, "Rights expired"));
      credit.append(" · ");
      credit.append(element("a", { href: image.change_url, target: "_blank", rel: "noopener" }, "Edit the image"));
      box.append(credit);
      if (caption) caption.placeholder = image.caption ? `The image's own caption: ${image.caption}` : "";
    };

    const refreshChecklist = async () => {
      try {
        const response = await fetch(root.dataset.checklistUrl, { method: "POST", body: new FormData(form), credentials: "same-origin" });
        if (!response.ok) return;
        const answer = await response.json();
        showChecklist(answer.items);
        showLeadImage(answer.lead_image);
      } catch (error) {
        // Offline for a moment: the checklist catches up on the next change.
      }
    };

    // Following a checklist link puts the cursor in the field (or opens its picker).
    document.addEventListener("click", (event) => {
      const link = event.target.closest("[data-live-checklist] a[href^='#']");
      if (!link) return;
      const target = document.getElementById(link.getAttribute("href").slice(1));
      if (!target) return;
      event.preventDefault();
      target.scrollIntoView({ block: "center" });
      const select2 = target.nextElementSibling && target.nextElementSibling.querySelector(".select2-selection");
      const prose = document.querySelector(".field-body .ProseMirror");
      if (select2) select2.focus();
      else if (target.id === "id_body" && prose) prose.focus();
      else if (target.focus) target.focus();
    });

    // --- Autosave ------------------------------------------------------------------------
    const ago = () => {
      const seconds = Math.max(0, Math.round((Date.now() - savedAt) / 1000));
      if (seconds < 60) return `${seconds} s ago`;
      return `${Math.floor(seconds / 60)} min ago`;
    };

    const render = () => {
      if (!status) return;
      if (problem) {
        status.textContent = problem;
        status.classList.add("autosave-status--error");
        return;
      }
      status.classList.remove("autosave-status--error");
      if (saving) status.textContent = "Saving…";
      else if (savedAt && root.hasAttribute("data-public")) status.textContent = `Changes kept as a revision ${ago()}; readers see them when you save.`;
      else if (savedAt) status.textContent = `Saved ${ago()}${dirty ? " · changes since" : ""}`;
    };

    const isNew = () => /\/add\/autosave\/$/.test(autosaveUrl);
    const autosave = async ({ leaving = false } = {}) => {
      if (!dirty || saving || submitting || !autosaveUrl || saved === null) return false;
      const sending = snapshot();
      if (sending === saved) {
        dirty = false;
        return true;
      }
      const title = form.querySelector("#id_title");
      const section = form.querySelector("#id_section");
      if (isNew() && (!title || !title.value.trim() || !section || !section.value)) {
        problem = "";
        if (status) status.textContent = "Autosave starts once the article has a title and a section.";
        return false;
      }
      saving = true;
      dirty = false;
      render();
      let ok = false;
      try {
        const response = await fetch(autosaveUrl, { method: "POST", body: new FormData(form), credentials: "same-origin", keepalive: leaving });
        const answer = await response.json();
        if (!response.ok) {
          problem = answer.error || "Not saved.";
          conflicted = Boolean(answer.conflict);
          if (!answer.conflict) dirty = true;  // try again after the next change
        } else {
          problem = "";
          ok = true;
          saved = sending;
          savedAt = Date.now();
          if (version) version.value = answer.version;
          if (autosaveUrl !== answer.autosave_url) {
            // A new article now exists: the form saves it from now on.
            autosaveUrl = answer.autosave_url;
            form.action = answer.change_url;
            history.replaceState(null, "", answer.change_url);
          }
        }
      } catch (error) {
        dirty = true;
        problem = "Not saved: the connection dropped. Trying again…";
      } finally {
        saving = false;
        render();
      }
      return ok;
    };

    const changed = (event) => {
      if (event && event.target && event.target.closest && event.target.closest("#changelist-search, .select2-search")) return;
      dirty = true;
      clearTimeout(checkTimer);
      checkTimer = setTimeout(refreshChecklist, CHECK_AFTER_MS);
    };
    form.addEventListener("input", changed);
    form.addEventListener("change", changed);
    if (window.django && window.django.jQuery) window.django.jQuery(form).on("change", "select", changed);
    form.addEventListener("submit", () => { submitting = true; });
    setInterval(() => autosave(), AUTOSAVE_EVERY_MS);
    setInterval(() => {
      render();
      nameBody();  // the editor may start after this script
    }, 1000);
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "hidden") autosave({ leaving: true });
    });
    window.addEventListener("pagehide", () => autosave({ leaving: true }));

    // The headline wraps in its box but stays one line: Enter goes on to the dek.
    const headline = form.querySelector("textarea#id_title");
    if (headline) {
      headline.addEventListener("keydown", (event) => {
        if (event.key === "Enter") {
          event.preventDefault();
          const dek = form.querySelector("#id_dek");
          if (dek) dek.focus();
        }
      });
    }

    // --- Ctrl/Cmd-S: save and stay -----------------------------------------------------
    const fullSave = () => {
      const button = form.querySelector("input[name=_continue]");
      if (button) {
        submitting = true;
        button.click();
      }
    };
    const saveAndStay = async () => {
      if (submitting) return;
      const inPlace = !root.hasAttribute("data-public") && autosaveUrl && saved !== null && others() === othersAsLoaded;
      if (!inPlace) {
        fullSave();
        return;
      }
      while (saving) await new Promise((resolve) => setTimeout(resolve, 100));
      dirty = true;
      if (await autosave()) {
        if (!savedAt && status) status.textContent = "No changes to save.";
        return;
      }
      // Not saved in place: a conflict is shown as it is; anything else (a missing title or
      // section, a value the form refuses) goes to the admin's save, which marks the field.
      if (!conflicted) fullSave();
    };
    document.addEventListener("keydown", (event) => {
      if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === "s") {
        event.preventDefault();
        saveAndStay();
      }
    });

    // --- Bylines: move up and down -----------------------------------------------------
    const bylineRows = () => Array.from(document.querySelectorAll("#bylines-group tr.form-row:not(.empty-form)"));
    const renumberBylines = () => {
      bylineRows().forEach((row, index) => {
        const position = row.querySelector("input[name$='-position']");
        if (position) position.value = index;
      });
      changed();
    };
    const addMoveButtons = (row) => {
      if (!row || row.querySelector(".byline-move")) return;
      const cell = row.querySelector("td.field-position") || row.lastElementChild;
      [["Move up", -1, "↑"], ["Move down", 1, "↓"]].forEach(([label, offset, glyph]) => {
        const button = element("button", { type: "button", class: "byline-move", title: label, "aria-label": `${label}: byline` }, glyph);
        button.addEventListener("click", () => {
          const rows = bylineRows();
          const target = rows[rows.indexOf(row) + offset];
          if (!target) return;
          row.parentNode.insertBefore(row, offset < 0 ? target : target.nextSibling);
          renumberBylines();
          button.focus();
        });
        cell.append(button);
      });
    };
    bylineRows().forEach(addMoveButtons);
    document.addEventListener("formset:added", (event) => {
      if (event.detail && event.detail.formsetName === "bylines") {
        addMoveButtons(event.target);
        const position = event.target.querySelector("input[name$='-position']");
        if (position && !position.value) position.value = bylineRows().length - 1;
      }
    });

    // The body's editable area is a role=textbox without a name: give it the field's label.
    // Its toolbar and dialogs (a heading, a link, an inserted image) change it without an
    // input event: watching it keeps the checklist and autosave up to date with them too
    // (from the baseline on: the editor's own rewrite of what it loads is no change).
    let watchedBody = null;
    const nameBody = () => {
      const body = document.querySelector(".field-body .ProseMirror[contenteditable]");
      if (body && !body.hasAttribute("aria-label")) body.setAttribute("aria-label", "Body");
      if (body && body !== watchedBody) {
        watchedBody = body;
        new MutationObserver(() => { if (saved !== null) changed(); }).observe(body, { childList: true, subtree: true, characterData: true, attributes: true, attributeFilter: ["href", "src"] });
      }
    };
    setTimeout(nameBody, 0);
    window.addEventListener("load", nameBody);

    refreshChecklist();
  });
}
