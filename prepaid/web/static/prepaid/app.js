// What every page shares, in place of inline handlers and style attributes (the
// Content-Security-Policy allows neither; docs/security.md):
//   data-submit-on-change   a select that sends its form when changed (the language)
//   data-print              a button that opens the print dialog
//   data-confirm="…"        a form that asks before it is sent
//   data-tint="#rrggbb"     a product's colour, as the --tint custom property
//   data-share="42"         a meter's width in per cent
// Styles set through the DOM (element.style) are allowed by the policy; style="…" in
// the markup is not.
(function () {
  "use strict";

  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field.matches && field.matches("[data-submit-on-change]") && field.form) field.form.submit();
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-print]")) window.print();
  });

  document.addEventListener("submit", function (event) {
    var question = event.target.dataset && event.target.dataset.confirm;
    if (question && !window.confirm(question)) event.preventDefault();
  });

  function paint(root) {
    root.querySelectorAll("[data-tint]").forEach(function (element) {
      element.style.setProperty("--tint", element.dataset.tint);
    });
    root.querySelectorAll("[data-share]").forEach(function (element) {
      element.style.width = Math.max(0, Math.min(100, Number(element.dataset.share) || 0)) + "%";
    });
  }
  document.addEventListener("DOMContentLoaded", function () { paint(document); });
  // Rows that htmx swaps in (the customer list as one types) get theirs too.
  document.addEventListener("htmx:load", function (event) { paint(event.target); });
})();
