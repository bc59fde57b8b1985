// Accessibility repairs for markup the theme and the widget manager produce; tests/test_site.py
// runs axe-core on every page to keep them effective.
(function () {
  function repair() {
    // The search buttons show "Search Ctrl+K" but are labelled "Search": name them by their
    // visible text instead, with the keyboard hint kept out of it.
    document.querySelectorAll(".search-button-field[aria-label]").forEach(function (el) {
      el.removeAttribute("aria-label");
    });
    document.querySelectorAll(".search-button__kbd-shortcut").forEach(function (el) {
      el.setAttribute("aria-hidden", "true");
    });
    // The colour-mode button's icons carry <title>s that compete with its label "Color mode".
    document.querySelectorAll(".theme-switch-button svg").forEach(function (svg) {
      svg.removeAttribute("aria-labelledby");
      svg.setAttribute("aria-hidden", "true");
      svg.querySelectorAll("title").forEach(function (title) { title.remove(); });
    });
    // Icons are Font Awesome glyphs drawn by CSS (the theme's script is not loaded): decoration.
    document.querySelectorAll('i[class*="fa-"]:not([aria-hidden])').forEach(function (el) {
      el.setAttribute("aria-hidden", "true");
    });
    // "Show code cell source" toggles: the visible text is the best name.
    document.querySelectorAll("summary[aria-label]").forEach(function (el) {
      el.removeAttribute("aria-label");
    });
    // docutils marks the bibliography role="list" without list items.
    document.querySelectorAll('.citation-list[role="list"]').forEach(function (el) {
      el.removeAttribute("role");
    });
    // Slider handles (role="slider") take the description of their widget as their name.
    document.querySelectorAll(".widget-slider").forEach(function (slider) {
      var label = slider.querySelector(".widget-label");
      var handle = slider.querySelector(".noUi-handle");
      if (label && handle && !handle.hasAttribute("aria-label")) {
        handle.setAttribute("aria-label", label.textContent.trim());
      }
    });
    markScrollingFigures();
  }
  // On a phone a figure scrolls sideways in its own box (rnnbook.css): a box that scrolls must
  // be reachable from the keyboard, one that fits must not add a tab stop.
  function markScrollingFigures() {
    document.querySelectorAll(
      "main .cell_output, .rnnbook-explorer .widget-html-content"
    ).forEach(function (box) {
      if (!box.querySelector("img")) return;
      var scrolls = box.scrollWidth > box.clientWidth + 1;
      if (scrolls && box.getAttribute("tabindex") !== "0") {
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", document.documentElement.lang.indexOf("zh") === 0
          ? "图（可左右滚动）" : "figure (scrolls sideways)");
      } else if (!scrolls && box.hasAttribute("tabindex")) {
        box.removeAttribute("tabindex");
        box.removeAttribute("role");
        box.removeAttribute("aria-label");
      }
    });
  }
  window.addEventListener("resize", markScrollingFigures);
  window.addEventListener("load", markScrollingFigures);
  // Widgets render, and the theme sets up tooltips, after DOMContentLoaded: repair again on
  // changes, at most once a frame (the figure check reads layout; a widget manager drawing
  // explorers changes the page many times within one frame).
  var pending = false;
  function repairSoon() {
    if (!pending) {
      pending = true;
      requestAnimationFrame(function () {
        pending = false;
        repair();
      });
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    repair();
    new MutationObserver(repairSoon).observe(document.body, {
      childList: true, subtree: true, attributes: true, attributeFilter: ["aria-label"],
    });
  });
})();
