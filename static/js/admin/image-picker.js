// The image library opened by the body editor's "Browse…" button: choosing a picture
// hands its URL, id, alt text and caption back to the editor's figure dialog.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const list = document.querySelector(".image-picker");
  if (!list) return;
  list.addEventListener("click", (event) => {
    const choice = event.target.closest(".image-picker__choice");
    if (!choice) return;
    const opener = window.opener;
    const callback = opener && opener.CKEDITOR && opener.CKEDITOR.tools;
    if (!callback) {
      window.alert("Open this window from the article editor's image dialog.");
      return;
    }
    callback.callFunction(list.dataset.funcNum, choice.dataset.url, {
      id: choice.dataset.id,
      alternative_text: choice.dataset.alt,
      caption: choice.dataset.caption,
    });
    window.close();
  });
});
