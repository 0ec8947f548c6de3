// The customer kiosk (docs/kiosk.md), in place of inline handlers (the
// Content-Security-Policy allows none):
//   data-keep-focus         the scan box takes the focus back, so a USB scanner's
//                           typing always lands in it
//   data-keypad             buttons with data-key type digits into the form's PIN
//                           ("back" deletes one)
//   data-idle-seconds       on <body>: after this long without a touch, the form
//                           #kiosk-done is sent (back to the scan screen)
// The server decides everything that matters (and forgets a customer soon anyway).
(function () {
  "use strict";

  var keep = document.querySelector("[data-keep-focus]");
  if (keep) {
    keep.focus();
    document.addEventListener("click", function (event) {
      if (!event.target.closest("button, a, select, input")) keep.focus();
    });
  }

  document.querySelectorAll("[data-keypad]").forEach(function (pad) {
    var input = pad.closest("form").querySelector("input[type=password]");
    pad.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-key]");
      if (!button || !input) return;
      var key = button.dataset.key;
      if (key === "back") input.value = input.value.slice(0, -1);
      else if (input.value.length < Number(input.maxLength || 6)) input.value += key;
      input.focus();
    });
  });

  var idle = Number(document.body.dataset.idleSeconds || 0);
  var done = document.getElementById("kiosk-done");
  if (idle > 0 && done) {
    var timer = null;
    var restart = function () {
      clearTimeout(timer);
      timer = setTimeout(function () { done.submit(); }, idle * 1000);
    };
    ["click", "keydown", "input", "touchstart", "scroll"].forEach(function (name) {
      document.addEventListener(name, restart, { passive: true });
    });
    restart();
  }
})();
