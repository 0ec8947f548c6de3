// The counter's small helpers: keyboard through the search results, choosing a product
// and quantity, the live total, the keypad, the top-up toggle and the idle lock
// (printing, the language switch and the products' colours: web's app.js). The server
// decides everything that matters; this only saves taps.
(function () {
  "use strict";

  // -- search results: arrows move, Enter opens ------------------------------------------
  function options() {
    return Array.from(document.querySelectorAll("#results [role=option]"));
  }
  function activate(list, index) {
    list.forEach(function (item, i) {
      item.classList.toggle("active", i === index);
      item.setAttribute("aria-selected", i === index ? "true" : "false");
    });
  }
  document.addEventListener("keydown", function (event) {
    if (event.target.id !== "scan") return;
    var list = options();
    if (!list.length) return;
    var index = list.findIndex(function (item) { return item.classList.contains("active"); });
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      index = event.key === "ArrowDown" ? Math.min(index + 1, list.length - 1) : Math.max(index - 1, 0);
      activate(list, index);
      event.target.dataset.navigated = "1";
    } else if (event.key === "Enter" && index >= 0 && event.target.dataset.navigated === "1") {
      // Chosen with the arrows: Enter opens that result. Otherwise Enter submits the
      // box, as a scanner's Enter does, and the server opens the card or the one match.
      event.preventDefault();
      window.location = list[index].querySelector("a").href;
    }
  });
  document.addEventListener("input", function (event) {
    if (event.target.id === "scan") delete event.target.dataset.navigated;
  });

  // -- selling ------------------------------------------------------------------------
  var panel = document.getElementById("panel");
  var form = document.getElementById("sell-form");
  function exponent(currency) {
    try {
      return new Intl.NumberFormat("en", { style: "currency", currency: currency }).resolvedOptions().maximumFractionDigits;
    } catch (error) { return 2; }
  }
  function format(minor, currency) {
    var places = exponent(currency);
    var value = minor / Math.pow(10, places);
    try {
      // The shop's own symbol in every language (₱, not "PHP"), as the server writes it.
      return new Intl.NumberFormat(document.documentElement.lang || "en", { style: "currency", currency: currency, currencyDisplay: "narrowSymbol" }).format(value);
    } catch (error) { return value.toFixed(places); }
  }
  function scaled(text, places) {
    // "0.3490" → 3490 at 4 places, exactly, without floating point.
    var match = /^\s*(\d*)(?:[.,](\d*))?\s*$/.exec(text || "");
    if (!match) return null;
    var decimals = (match[2] || "").slice(0, places);
    while (decimals.length < places) decimals += "0";
    return parseInt((match[1] || "0") + decimals, 10);
  }
  function update() {
    if (!panel || !form) return;
    var currency = panel.dataset.currency;
    var chosen = form.querySelector(".product.chosen");
    var quantity = scaled(form.querySelector("#quantity").value, 3);
    var total = document.getElementById("total");
    var after = document.getElementById("after");
    if (!chosen || quantity === null || quantity <= 0) {
      total.textContent = "–"; after.textContent = "–"; after.classList.remove("short");
      return;
    }
    var byCard = form.querySelector("#use_card").value === "1";
    ["total-label", "after-label"].forEach(function (id) {
      var label = document.getElementById(id);
      label.textContent = byCard ? label.dataset.uses : label.dataset.money;
    });
    if (byCard) {
      // Uses of the customer's passes and punch cards: how many, and how many are left
      // after (a pass without a cap today: no end to show).
      var uses = quantity / 1000;
      total.textContent = String(uses);
      if (chosen.dataset.left === "unlimited") {
        after.textContent = "∞";
        after.classList.toggle("short", quantity % 1000 !== 0);
        return;
      }
      var left = Number(chosen.dataset.left || 0) - uses;
      after.textContent = String(left);
      after.classList.toggle("short", left < 0 || quantity % 1000 !== 0);
      return;
    }
    var price = scaled(chosen.dataset.price, 4);
    var places = exponent(currency);
    // price × quantity carries 7 decimals; round half up to the currency's.
    var divisor = Math.pow(10, 7 - places);
    var minor = Math.floor((price * quantity + divisor / 2) / divisor);
    // The customer's tier takes its share off the line (half up, as the server does);
    // a coupon's comes off when the sale is confirmed.
    var discount = Number(chosen.dataset.discount || 0);
    if (discount) minor -= Math.floor((minor * discount + 5000) / 10000);
    var available = Number(panel.dataset.paid) + Number(panel.dataset.bonus) + Number(panel.dataset.credit);
    total.textContent = format(minor, currency);
    after.textContent = format(Number(panel.dataset.paid) + Number(panel.dataset.bonus) - minor, currency);
    after.classList.toggle("short", minor > available);
  }
  function choose(product, quantity) {
    form.querySelectorAll(".product").forEach(function (item) { item.classList.toggle("chosen", item === product); });
    form.querySelectorAll(".preset, .card-use").forEach(function (button) { button.classList.remove("chosen"); });
    form.querySelector("#product").value = product.dataset.product;
    var input = form.querySelector("#quantity");
    if (quantity) input.value = quantity;
    input.dataset.fresh = "1";  // the keypad starts a new number after a choice
    update();
  }
  if (form) {
    form.addEventListener("click", function (event) {
      var button = event.target.closest("button");
      if (!button) return;
      var product = button.closest(".product");
      if (product) {
        form.querySelector("#use_card").value = button.dataset.card ? "1" : "";
        choose(product, button.dataset.quantity);
        if (button.classList.contains("preset") || button.dataset.card) button.classList.add("chosen");
        document.getElementById("confirm").focus();
        return;
      }
      var key = button.dataset.key;
      if (key) {
        var input = form.querySelector("#quantity");
        if (input.dataset.fresh !== "0") { input.value = ""; input.dataset.fresh = "0"; }
        input.value = key === "back" ? input.value.slice(0, -1) : input.value + key;
        update();
      }
    });
    form.querySelector("#quantity").addEventListener("input", update);
    // The coupon: a USB scanner types its code and Enter. Enter here does not sell: it
    // moves to Confirm, which the cashier presses (or Enter again) after a look.
    var coupon = form.querySelector("#coupon");
    if (coupon) {
      coupon.addEventListener("keydown", function (event) {
        if (event.key !== "Enter") return;
        event.preventDefault();
        document.getElementById("confirm").focus();
      });
      coupon.addEventListener("input", function () {
        document.getElementById("coupon-note").hidden = !coupon.value.trim();
      });
    }
    form.addEventListener("submit", function (event) {
      if (!form.querySelector("#product").value) {
        event.preventDefault();
        form.querySelector(".product .choose") && form.querySelector(".product .choose").focus();
        return;
      }
      if (form.dataset.sent === "1") { event.preventDefault(); return; }  // a double click
      form.dataset.sent = "1";
    });
    // Back to this page from the receipt (the browser's back-forward cache): the form
    // may be sent again; the server answers with the first receipt.
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) delete form.dataset.sent;
    });
    var preselected = form.querySelector("#product").value;
    if (preselected) {
      var product = form.querySelector('.product[data-product="' + preselected + '"]');
      if (product) choose(product, null);
    }
  }

  // -- top-up: the toggle, and a plan fills the amount ----------------------------------
  document.addEventListener("click", function (event) {
    // A plan's quick button: the form opens with that plan chosen, Confirm in focus.
    var quick = event.target.closest("[data-quick-plan]");
    if (quick) {
      var form = document.getElementById("top-up-form");
      var radio = form.querySelector('input[name=plan][value="' + quick.dataset.quickPlan + '"]');
      form.hidden = false;
      document.querySelector('.toggle[aria-controls="top-up-form"]').setAttribute("aria-expanded", "true");
      if (radio) { radio.checked = true; radio.dispatchEvent(new Event("change", { bubbles: true })); }
      form.querySelector("button[type=submit]").focus();
      return;
    }
    var toggle = event.target.closest(".toggle[aria-controls]");
    if (toggle) {
      var target = document.getElementById(toggle.getAttribute("aria-controls"));
      var open = target.hidden;
      target.hidden = !open;
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      if (open) { var first = target.querySelector("input[type=radio], input[type=text]"); if (first) first.focus(); }
    }
  });
  document.addEventListener("change", function (event) {
    var radio = event.target;
    if (radio.name === "plan" && radio.dataset.amount && panel) {
      var places = exponent(panel.dataset.currency);
      document.getElementById("amount").value = (Number(radio.dataset.amount) / Math.pow(10, places)).toFixed(places);
    }
  });
  document.addEventListener("input", function (event) {
    // Typing an amount of one's own means no plan.
    if (event.target.id !== "amount") return;
    var any = document.querySelector('input[name=plan][value=""]');
    if (any) any.checked = true;
  });

  // -- scanning with the camera ---------------------------------------------------------
  // The browser's BarcodeDetector where it has one; otherwise the vendored jsQR, loaded
  // only when the camera is used. Cameras need HTTPS or localhost.
  var camera = document.getElementById("camera");
  if (camera && navigator.mediaDevices && window.isSecureContext) {
    camera.hidden = false;
    var box = document.getElementById("camera-box");
    var video = document.getElementById("camera-view");
    var stream = null;
    var stop = function () {
      if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
      stream = null;
      box.hidden = true;
    };
    var found = function (text) {
      stop();
      var input = document.getElementById("scan");
      input.value = text;
      input.form.submit();
    };
    var decoder = function () {
      if ("BarcodeDetector" in window) {
        var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
        return Promise.resolve(function () {
          return detector.detect(video).then(function (codes) { return codes.length ? codes[0].rawValue : null; });
        });
      }
      return new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = camera.dataset.decoder;
        script.onload = function () {
          var canvas = document.createElement("canvas");
          var context = canvas.getContext("2d", { willReadFrequently: true });
          resolve(function () {
            if (!video.videoWidth) return Promise.resolve(null);
            canvas.width = video.videoWidth;
            canvas.height = video.videoHeight;
            context.drawImage(video, 0, 0);
            var image = context.getImageData(0, 0, canvas.width, canvas.height);
            var code = window.jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
            return Promise.resolve(code ? code.data : null);
          });
        };
        script.onerror = reject;
        document.head.appendChild(script);
      });
    };
    camera.addEventListener("click", function () {
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (media) {
        stream = media;
        video.srcObject = media;
        box.hidden = false;
        video.play();
        return decoder();
      }).then(function (read) {
        var tick = function () {
          if (!stream) return;
          read().then(function (text) {
            if (text) found(text); else setTimeout(tick, 150);
          });
        };
        tick();
      }).catch(function () { stop(); });
    });
    document.getElementById("camera-stop").addEventListener("click", stop);
  }

  // -- the idle lock ----------------------------------------------------------------------
  var idle = Number(document.body.dataset.idleSeconds || 0);
  var lockForm = document.getElementById("lock-form");
  if (idle > 0 && lockForm) {
    var timer = null;
    var restart = function () {
      clearTimeout(timer);
      timer = setTimeout(function () { lockForm.submit(); }, idle * 1000);
    };
    ["click", "keydown", "input", "touchstart"].forEach(function (name) {
      document.addEventListener(name, restart, { passive: true });
    });
    restart();
  }
})();
