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
  }
  // A box that scrolls (wide code, a wide table, a figure on a phone: rnnbook.css) must be
  // reachable from the keyboard (axe: scrollable-region-focusable); one that fits must not add a
  // tab stop. This replaces the theme's own pass (book/_ext/site_scripts.py), which measured
  // every box at load and on each change, each time laying out the whole chapter, sections far
  // from the screen included (rnnbook.css lets the browser skip those). Here a ResizeObserver
  // reports sizes after the browser's own layout of what it shows, and one pass measures every
  // box once, when the browser is idle after the load; it then marks the page
  // data-rnnbook-tab-stops="done".
  var SCROLLING = "pre, .nboutput > .output_area, .cell_output > .output, " +
    ".jp-RenderedHTMLCommon, .pst-scrollable-table-container, main .cell_output, " +
    ".rnnbook-explorer .widget-html-content";
  var FIGURE_LABEL = document.documentElement.lang.indexOf("zh") === 0
    ? "图（可左右滚动）" : "figure (scrolls sideways)";
  function markScrolling(boxes) {
    var scrolls = boxes.map(function (box) {  // all reads before any write
      return box.scrollWidth > box.clientWidth + 1 || box.scrollHeight > box.clientHeight + 1;
    });
    boxes.forEach(function (box, index) {
      var figure = box.querySelector("img") !== null;
      if (scrolls[index] && box.getAttribute("tabindex") !== "0") {
        box.setAttribute("tabindex", "0");
        if (figure) {
          box.setAttribute("role", "region");
          box.setAttribute("aria-label", FIGURE_LABEL);
        }
      } else if (!scrolls[index] && box.hasAttribute("tabindex")) {
        box.removeAttribute("tabindex");
        if (box.getAttribute("aria-label") === FIGURE_LABEL) {
          box.removeAttribute("role");
          box.removeAttribute("aria-label");
        }
      }
    });
  }
  var sizes = window.ResizeObserver ? new ResizeObserver(function (entries) {
    markScrolling(entries.map(function (entry) { return entry.target; }));
  }) : null;
  var watched = new WeakSet();
  function watchScrolling() {
    if (!sizes) return;
    document.querySelectorAll(SCROLLING).forEach(function (box) {
      if (!watched.has(box)) {
        watched.add(box);
        sizes.observe(box);
      }
    });
  }
  function markAllScrolling() {
    markScrolling(Array.prototype.slice.call(document.querySelectorAll(SCROLLING)));
    document.documentElement.setAttribute("data-rnnbook-tab-stops", "done");
  }
  // The pass waits for the load and, on a page with widgets, for the explorers to be drawn.
  var waiting = document.querySelector(
    'script[type="application/vnd.jupyter.widget-state+json"]') ? 2 : 1;
  function ready() {
    waiting -= 1;
    if (waiting > 0) return;
    if (window.requestIdleCallback) {
      requestIdleCallback(markAllScrolling, {timeout: 1000});
    } else {
      setTimeout(markAllScrolling, 200);
    }
  }
  window.addEventListener("load", ready);
  document.addEventListener("rnnbook:widgets-rendered", ready);
  // Widgets render, and the theme sets up tooltips, after DOMContentLoaded: repair again, and
  // watch the new boxes, on changes, at most once a frame (a widget manager drawing explorers
  // changes the page many times within one frame).
  var pending = false;
  function repairSoon() {
    if (!pending) {
      pending = true;
      requestAnimationFrame(function () {
        pending = false;
        repair();
        watchScrolling();
      });
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    repair();
    watchScrolling();
    new MutationObserver(repairSoon).observe(document.body, {
      childList: true, subtree: true, attributes: true, attributeFilter: ["aria-label"],
    });
  });
})();
