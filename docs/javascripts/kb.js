/* Site-wide behaviour added to Material's pages (no dependencies, runs after load). */
(function () {
  "use strict";

  /* The search overlay is a dialog: give it an accessible name. */
  var dialog = document.querySelector(".md-search[role='dialog']");
  if (dialog && !dialog.hasAttribute("aria-label")) {
    dialog.setAttribute("aria-label", "サイト内検索");
  }

  var input = document.querySelector("input[data-md-component='search-query']");
  if (!input) {
    return;
  }

  /* Customers often type full-width Latin letters and digits (サポートＩＤ, Ｃｒｏｎ) or
     half-width katakana. The index holds the NFKC form, so normalise the query the same
     way before Material's search (which runs on keyup) reads it. */
  var normalise = function () {
    if (typeof "".normalize !== "function") {
      return;
    }
    var value = input.value.normalize("NFKC");
    if (value !== input.value) {
      input.value = value;
    }
  };

  /* While an IME composes (ぱすわ… before it becomes パスワード), the box holds text the
     person has not chosen yet: Material would search on every keyup. Hold those keyups
     back and search once the composition ends, with the text the person chose. */
  var composing = false;
  input.addEventListener("compositionstart", function () {
    composing = true;
  });
  input.addEventListener("compositionend", function () {
    composing = false;
    normalise();
    input.dispatchEvent(new KeyboardEvent("keyup", { key: "Process", bubbles: true }));
  });
  input.addEventListener("keyup", function (event) {
    if (composing || event.isComposing) {
      event.stopImmediatePropagation();
    }
  }, true);
  input.addEventListener("input", function (event) {
    if (!composing && !event.isComposing) {
      normalise();
    }
  });

  /* No result: say where to go next (the FAQ index, the request forms). The links are in
     a template of the page (main.html), shown under Material's result list, outside it:
     Material reads every link in the list as a result. */
  var template = document.getElementById("kb-search-help");
  var meta = document.querySelector(".md-search-result__meta");
  if (!template || !meta) {
    return;
  }
  var help = template.content.firstElementChild.cloneNode(true);
  help.hidden = true;
  meta.parentNode.after(help);
  var none = template.getAttribute("data-none");
  var update = function () {
    help.hidden = !(input.value.trim() && meta.textContent.trim() === none);
  };
  new MutationObserver(update).observe(meta, { childList: true, characterData: true, subtree: true });
})();

/* The home page's search box (home.md.j2, issue 12) drives the site's search dialog in
   place: the header's dialog on either build (Material's on MkDocs, ours on Zensical),
   opened with the words typed here. Without this script the form goes to /faq/?q=, where
   either dialog opens by itself with the query when scripts run. */
(function () {
  "use strict";

  var form = document.querySelector("form[data-kb-home-search]");
  var toggle = document.getElementById("__search");
  var dialogInput = document.querySelector("input.md-search__input");
  if (!form || !toggle || !dialogInput) {
    return;
  }
  var own = form.querySelector("input[name='q']");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var query = own.value.trim();
    if (!toggle.checked) {
      toggle.checked = true;
      toggle.dispatchEvent(new Event("change"));
    }
    dialogInput.value = query;
    dialogInput.focus();
    dialogInput.dispatchEvent(new Event("input", { bubbles: true }));
    dialogInput.dispatchEvent(new KeyboardEvent("keyup", { key: "Enter", bubbles: true }));
  });
})();
