// The ipywidgets HTML manager typesets widget labels with the MathJax 2 API
// (MathJax.Hub.Queue); Sphinx loads MathJax 3, which has no Hub. Map the call to MathJax 3
// so that labels render and the page raises no error. Loaded with `defer` after MathJax.
(function () {
  if (window.MathJax === undefined || window.MathJax.Hub !== undefined) {
    return;
  }
  window.MathJax.Hub = {
    Queue: function (command) {
      var element = Array.isArray(command) ? command[2] : undefined;
      if (element && window.MathJax.typesetPromise) {
        window.MathJax.typesetPromise([element]).catch(function () {});
      }
    },
  };
})();
