// Widget labels (slider descriptions) with $...$ math: the page carries their MathML,
// rendered at build time (book/_ext/site_scripts.py), in window.rnnbookLabelMath, keyed by the
// description; each label that the widget manager writes as that text gets the markup, and its
// slider handle a name without the TeX. Loaded only on pages that have such labels.
(function () {
  var labels = window.rnnbookLabelMath || {};
  function spoken(el) {
    var copy = el.cloneNode(true);
    return copy.textContent.replace(/\s+/g, " ").trim();
  }
  function typeset() {
    document.querySelectorAll(".widget-label").forEach(function (label) {
      var html = labels[label.textContent];
      if (html === undefined || label.querySelector(".katex")) {
        return;
      }
      label.innerHTML = html;
      var slider = label.closest(".widget-slider");
      var handle = slider && slider.querySelector(".noUi-handle");
      if (handle) {
        handle.setAttribute("aria-label", spoken(label));
      }
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    typeset();
    new MutationObserver(typeset).observe(document.body, {childList: true, subtree: true});
  });
})();
