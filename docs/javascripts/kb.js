/* Site-wide behaviour added to Material's pages (no dependencies, runs after load). */
(function () {
  "use strict";

  /* The search overlay is a dialog: give it an accessible name. */
  var dialog = document.querySelector(".md-search[role='dialog']");
  if (dialog && !dialog.hasAttribute("aria-label")) {
    dialog.setAttribute("aria-label", "サイト内検索");
  }

  /* Customers often type full-width Latin letters and digits (サポートＩＤ, Ｃｒｏｎ) or
     half-width katakana. The index holds the NFKC form, so normalise the query the same
     way before Material's search (which runs on keyup) reads it. Never during IME
     composition, which would break the conversion the person is typing. */
  var input = document.querySelector("input[data-md-component='search-query']");
  if (input && typeof "".normalize === "function") {
    var normalise = function (event) {
      if (event.isComposing) {
        return;
      }
      var value = input.value.normalize("NFKC");
      if (value !== input.value) {
        input.value = value;
      }
    };
    input.addEventListener("input", normalise);
    input.addEventListener("compositionend", normalise);
  }
})();
