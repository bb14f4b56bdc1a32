/* The site search's dialog on the Zensical build (partials/search.html, written by
   `cmskb export --zensical`). It talks to the same worker as Material's dialog does on
   the MkDocs build (kb-search-worker.js, Material's four messages) and behaves as a
   reader of either build expects: the header button or "/" opens it, the query runs on
   keyup (kb.js holds keyups back while an IME composes), arrows move through the
   results, Enter opens the chosen one, Escape closes; ?q= opens it with a query, and a
   result's ?h= words are marked on the page it opens. */
(function () {
  "use strict";

  var SETUP = 0, READY = 1, QUERY = 2, RESULT = 3;
  var MAX_SECTIONS = 3; // links shown per page: the page and its best sections

  var root = document.querySelector(".kb-search[data-kb-worker]");
  var toggle = document.getElementById("__search");
  var base = (function () {
    var config = document.getElementById("__config");
    try {
      return new URL(JSON.parse(config.textContent).base, location.href);
    } catch (error) {
      return new URL("./", location.href);
    }
  })();

  markHighlightedWords();
  if (!root || !toggle) {
    return;
  }
  var input = root.querySelector("input[name='query']");
  var meta = root.querySelector(".md-search-result__meta");
  var list = root.querySelector(".md-search-result__list");
  var text = {
    placeholder: root.getAttribute("data-kb-placeholder"),
    none: root.getAttribute("data-kb-none"),
    one: root.getAttribute("data-kb-one"),
    other: root.getAttribute("data-kb-other")
  };

  var worker = null;
  var ready = false;
  var pending = null;
  var asked = null;

  function start() {
    if (worker) return;
    worker = new Worker(new URL(root.getAttribute("data-kb-worker"), location.href));
    worker.addEventListener("message", function (event) {
      var message = event.data;
      if (message.type === READY) {
        ready = true;
        if (pending !== null) send(pending);
      } else if (message.type === RESULT) {
        show(message.data.items);
      }
    });
    worker.postMessage({ type: SETUP, data: {} });
  }

  function send(query) {
    pending = null;
    asked = query;
    worker.postMessage({ type: QUERY, data: query });
  }

  function search() {
    var query = input.value;
    if (query === asked && query !== "") return;
    if (!query.trim()) {
      asked = query;
      list.textContent = "";
      meta.textContent = text.placeholder;
      return;
    }
    start();
    if (ready) send(query);
    else pending = query;
  }

  function resultLink(doc, words, first) {
    var link = document.createElement("a");
    var url = new URL(doc.location, base);
    if (words.length) url.searchParams.set("h", words.join(" "));
    link.href = url.href;
    link.className = "md-search-result__link";
    link.tabIndex = -1;
    var article = document.createElement("article");
    article.className = "md-search-result__article md-typeset" +
      (first ? " md-search-result__article--document" : "");
    var heading = document.createElement(first ? "h1" : "h2");
    heading.innerHTML = doc.title; // the worker escapes the text and adds only <mark>
    article.appendChild(heading);
    if (doc.text) {
      var excerpt = document.createElement("p");
      excerpt.innerHTML = doc.text;
      article.appendChild(excerpt);
    }
    link.appendChild(article);
    return link;
  }

  function show(groups) {
    if (input.value !== asked) return; // a newer query is on its way
    list.textContent = "";
    groups.forEach(function (docs) {
      var item = document.createElement("li");
      item.className = "md-search-result__item";
      docs.slice(0, MAX_SECTIONS).forEach(function (doc, i) {
        var words = Object.keys(doc.terms).filter(function (w) { return doc.terms[w]; });
        item.appendChild(resultLink(doc, words, i === 0));
      });
      list.appendChild(item);
    });
    var count = groups.length;
    meta.textContent = count === 0 ? text.none
      : count === 1 ? text.one : text.other.replace("#", String(count));
  }

  function open(query) {
    if (!toggle.checked) {
      toggle.checked = true;
      toggle.dispatchEvent(new Event("change"));
    }
    if (typeof query === "string") {
      input.value = query;
      search();
    }
    input.focus();
  }

  function close() {
    if (toggle.checked) {
      toggle.checked = false;
      toggle.dispatchEvent(new Event("change"));
    }
    input.blur();
  }

  function links() {
    return Array.prototype.slice.call(list.querySelectorAll("a.md-search-result__link"));
  }

  toggle.addEventListener("change", function () {
    if (toggle.checked) {
      start();
      setTimeout(function () { input.focus(); }, 0);
    }
  });
  var opener = document.querySelector(".kb-search-open .md-search__button");
  if (opener) opener.addEventListener("click", function () { open(); });
  input.addEventListener("keyup", search);
  input.addEventListener("focus", start);
  root.querySelector("form").addEventListener("reset", function () {
    setTimeout(function () { search(); input.focus(); }, 0);
  });
  root.querySelector("form").addEventListener("submit", function (event) {
    event.preventDefault();
  });

  document.addEventListener("keydown", function (event) {
    if (event.isComposing) return;
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "k") {
      event.preventDefault(); // the shortcut the search button shows
      if (toggle.checked) close(); else open();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    var typing = target instanceof HTMLElement &&
      (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
    if (!toggle.checked) {
      if ((event.key === "/" || event.key === "s" || event.key === "f") && !typing) {
        event.preventDefault();
        open();
      }
      return;
    }
    var all = links();
    var at = all.indexOf(document.activeElement);
    if (event.key === "Escape") {
      event.preventDefault();
      close();
    } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!all.length) return;
      event.preventDefault();
      var next = at + (event.key === "ArrowDown" ? 1 : -1);
      if (next < 0 || (at < 0 && event.key === "ArrowUp")) input.focus();
      else all[Math.min(next, all.length - 1)].focus();
    } else if (event.key === "Enter" && target === input) {
      event.preventDefault();
      if (all.length) location.href = all[0].href;
    }
  });

  var query = new URL(location.href).searchParams.get("q");
  if (query) open(query);

  /* Mark the words of a result's ?h= on the page it opened (Material does this itself). */
  function markHighlightedWords() {
    var words = (new URL(location.href).searchParams.get("h") || "").split(/\s+/)
      .filter(function (w) { return w; });
    var article = document.querySelector("article.md-content__inner");
    if (!words.length || !article || !window.KBSearch) return;
    var normalized = words.map(function (w) { return window.KBSearch.normalize(w); });
    var walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT);
    var nodes = [];
    for (var node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!node.parentElement.closest("script, style, mark, .headerlink")) nodes.push(node);
    }
    nodes.forEach(function (node) {
      var html = window.KBSearch.highlight(node.nodeValue, normalized);
      if (html.indexOf("<mark") < 0) return;
      var holder = document.createElement("span");
      holder.innerHTML = html;
      node.replaceWith.apply(node, Array.prototype.slice.call(holder.childNodes));
    });
  }
})();
