// Click on the picture to set its focal point; the x/y fields follow, and typing in
// them moves the marker. Works without it: the fields alone are enough.
"use strict";
{
  const round = (value) => Math.round(Math.min(1, Math.max(0, value)) * 100) / 100;
  document.addEventListener("DOMContentLoaded", () => {
    const box = document.querySelector(".focal-point");
    const x = document.getElementById("id_focal_x");
    const y = document.getElementById("id_focal_y");
    if (!box || !x || !y) return;
    const image = box.querySelector("img");
    const marker = box.querySelector(".focal-point__marker");
    // Measured against the picture itself, wherever it sits in its box.
    const place = () => {
      const fx = Math.min(1, Math.max(0, parseFloat(x.value) || 0));
      const fy = Math.min(1, Math.max(0, parseFloat(y.value) || 0));
      marker.style.left = `${image.offsetLeft + fx * image.offsetWidth}px`;
      marker.style.top = `${image.offsetTop + fy * image.offsetHeight}px`;
    };
    image.addEventListener("click", (event) => {
      const rect = image.getBoundingClientRect();
      x.value = round((event.clientX - rect.left) / rect.width);
      y.value = round((event.clientY - rect.top) / rect.height);
      place();
    });
    x.addEventListener("input", place);
    y.addEventListener("input", place);
    image.addEventListener("load", place);
    window.addEventListener("resize", place);
    place();
  });
}
