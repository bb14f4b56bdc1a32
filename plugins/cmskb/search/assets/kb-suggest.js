/* Answers before a request: while a customer types the subject or the body of a request
   form, up to five of the site's questions that match appear under the field. The site
   build ships this file (and stylesheets/kb-suggest.css, which it adds to the page) for the
   forms sidecar, which includes it from /assets/javascripts/.

   A form marks where the suggestions go with an empty <div data-kb-suggest="FIELD-ID">
   after the field; without this script the container stays empty. The questions come from
   the site's own search: its worker (/assets/javascripts/kb-search-worker.js, the one
   behind the site's search dialog) answers from the index under /search/kb/, one worker
   per field, so each field's answers are its own.

   Each suggestion is a link to the question. Activating it opens the answer in place,
   under the link (the answer is read from the question's page, between the site's
   <!-- kb:answer --> markers), with a link that opens the whole page in a new tab, so
   what was typed in the form is never lost. Ctrl/Cmd/Shift-click and the middle button
   keep the browser's own handling of a link.

   Queries wait until typing pauses (DEBOUNCE_MS) and never run while an input method is
   composing (Japanese conversion): only the committed text is searched. A polite live
   region tells screen readers how many questions were found; nothing takes the keyboard
   (no combobox: Enter and the arrow keys keep their usual meaning in the form). */
(function () {
  "use strict";

  var SITE_ROOT = "/";
  var WORKER_URL = SITE_ROOT + "assets/javascripts/kb-search-worker.js";
  var MAX_SUGGESTIONS = 5;
  var DEBOUNCE_MS = 350;
  var MIN_CHARS = 2;
  var MAX_QUERY_CHARS = 120; // a long body: its beginning says what it is about
  var QUESTION_PATH = /^\/faq\/(?!category\/)[^/]+\/$/;
  var ANSWER_START = "<!-- kb:answer -->";
  var ANSWER_END = "<!-- /kb:answer -->";
  var SETUP = 0, QUERY = 2, RESULT = 3; // the worker's messages (see the worker)

  var TEXT = {
    intro: "入力内容に近い「よくあるご質問」",
    found: function (n) { return "入力内容に近いよくあるご質問が" + n + "件見つかりました。"; },
    loading: "回答を読み込んでいます…",
    failed: "回答を表示できませんでした。下のリンクからご質問のページをご覧ください。",
    open: "このご質問のページを新しいタブで開く"
  };

  var answers = new Map(); // question URL -> Promise of a DocumentFragment (or null)
  var serial = 0;

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  /* Plain text of a title the worker highlighted (escaped HTML with <mark>). */
  function plain(html) {
    return new DOMParser().parseFromString(html, "text/html").body.textContent || "";
  }

  function questionsOf(items) {
    var seen = new Set();
    var found = [];
    items.forEach(function (group) {
      if (!group.length || found.length >= MAX_SUGGESTIONS) return;
      var url = new URL(group[0].location.split("#")[0], location.origin + SITE_ROOT);
      if (!QUESTION_PATH.test(url.pathname) || seen.has(url.pathname)) return;
      seen.add(url.pathname);
      found.push({ url: url.pathname, title: plain(group[0].title) });
    });
    return found;
  }

  /* The answer of a question page, as nodes safe to show inside the form: no ids (the
     form's own must stay unique), no scripts, forms or heading anchors. */
  function answerOf(url) {
    if (!answers.has(url)) {
      answers.set(url, fetch(url, { credentials: "same-origin" }).then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      }).then(function (html) {
        var start = html.indexOf(ANSWER_START);
        var end = html.indexOf(ANSWER_END, start + 1);
        if (start < 0 || end < 0) return null;
        var doc = new DOMParser().parseFromString(
          html.slice(start + ANSWER_START.length, end), "text/html");
        doc.body.querySelectorAll("script, style, form, input, button, select, textarea, iframe, .headerlink")
          .forEach(function (node) { node.remove(); });
        doc.body.querySelectorAll("[id], [for], [style]").forEach(function (node) {
          node.removeAttribute("id");
          node.removeAttribute("for");
          node.removeAttribute("style");
        });
        // headings of the answer become plain emphasised lines inside the form
        doc.body.querySelectorAll("h1, h2, h3, h4, h5, h6").forEach(function (heading) {
          var line = element("p", "kb-suggest__subhead");
          line.append.apply(line, Array.from(heading.childNodes));
          heading.replaceWith(line);
        });
        doc.body.querySelectorAll("a[href]").forEach(function (link) {
          // links of the answer are relative to the question's page; they open in a new tab
          link.setAttribute("href", new URL(link.getAttribute("href"), location.origin + url).href);
          link.setAttribute("target", "_blank");
          link.setAttribute("rel", "noopener");
        });
        doc.body.querySelectorAll("img[src]").forEach(function (image) {
          image.setAttribute("src", new URL(image.getAttribute("src"), location.origin + url).href);
          image.removeAttribute("srcset");
        });
        var fragment = document.createDocumentFragment();
        fragment.append.apply(fragment, Array.from(doc.body.childNodes));
        return fragment.childNodes.length ? fragment : null;
      }).catch(function () {
        answers.delete(url);
        return null;
      }));
    }
    return answers.get(url).then(function (fragment) {
      return fragment ? fragment.cloneNode(true) : null;
    });
  }

  function Suggestions(field, box) {
    this.field = field;
    this.box = box;
    this.worker = null;
    this.timer = 0;
    this.composing = false;
    this.lastQuery = "";
    this.shown = "";
    serial += 1;
    this.prefix = "kb-suggest-" + serial;

    box.classList.add("kb-suggest");
    this.status = element("p", "kb-suggest__status");
    this.status.setAttribute("role", "status");
    this.panel = element("div", "kb-suggest__panel");
    this.panel.hidden = true;
    var intro = element("p", "kb-suggest__intro", TEXT.intro);
    intro.id = this.prefix + "-intro";
    this.list = element("ul", "kb-suggest__list");
    this.list.setAttribute("aria-labelledby", intro.id);
    this.panel.append(intro, this.list);
    box.append(this.status, this.panel);

    var self = this;
    field.addEventListener("compositionstart", function () {
      self.composing = true;
      clearTimeout(self.timer);
    });
    field.addEventListener("compositionend", function () {
      self.composing = false;
      self.schedule();
    });
    field.addEventListener("input", function (event) {
      if (event.isComposing || self.composing) return;
      self.schedule();
    });
    this.list.addEventListener("click", function (event) { self.activate(event); });
    // a form shown again with its errors: suggest for what was already typed
    if (field.value.trim()) this.schedule();
  }

  Suggestions.prototype.schedule = function () {
    var self = this;
    clearTimeout(this.timer);
    this.timer = setTimeout(function () { self.query(); }, DEBOUNCE_MS);
  };

  Suggestions.prototype.query = function () {
    var text = this.field.value.trim().slice(0, MAX_QUERY_CHARS);
    if (Array.from(text).length < MIN_CHARS) text = "";
    if (text === this.lastQuery) return;
    this.lastQuery = text;
    if (!text) {
      this.show([]);
      return;
    }
    this.start();
    if (this.worker) this.worker.postMessage({ type: QUERY, data: text });
  };

  Suggestions.prototype.start = function () {
    if (this.worker) return;
    var self = this;
    try {
      this.worker = new Worker(WORKER_URL);
    } catch (error) {
      return; // no worker: no suggestions, the form works as before
    }
    this.worker.addEventListener("message", function (event) {
      var message = event.data;
      if (message && message.type === RESULT && self.lastQuery) {
        self.show(questionsOf(message.data.items || []));
      }
    });
    this.worker.addEventListener("error", function () { self.show([]); });
    this.worker.postMessage({ type: SETUP, data: {} });
  };

  Suggestions.prototype.show = function (questions) {
    var key = questions.map(function (q) { return q.url; }).join(" ");
    if (key === this.shown) return; // the same questions: keep what is open
    this.shown = key;
    var self = this;
    this.list.replaceChildren.apply(this.list, questions.map(function (q, i) {
      var item = element("li", "kb-suggest__item");
      var link = element("a", "kb-suggest__link", q.title);
      link.href = q.url;
      link.setAttribute("aria-expanded", "false");
      link.setAttribute("aria-controls", self.prefix + "-answer-" + i);
      var answer = element("div", "kb-suggest__answer");
      answer.id = self.prefix + "-answer-" + i;
      answer.hidden = true;
      item.append(link, answer);
      return item;
    }));
    this.panel.hidden = questions.length === 0;
    this.status.textContent = questions.length ? TEXT.found(questions.length) : "";
  };

  Suggestions.prototype.activate = function (event) {
    var link = event.target.closest("a.kb-suggest__link");
    if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    var answer = document.getElementById(link.getAttribute("aria-controls"));
    var open = link.getAttribute("aria-expanded") !== "true";
    link.setAttribute("aria-expanded", String(open));
    answer.hidden = !open;
    if (!open || answer.childNodes.length) return;
    var url = link.getAttribute("href");
    var body = element("div", "kb-suggest__body", TEXT.loading);
    var more = element("p", "kb-suggest__more");
    var page = element("a", "", TEXT.open);
    page.href = url;
    page.target = "_blank";
    page.rel = "noopener";
    more.append(page);
    answer.append(body, more);
    answerOf(url).then(function (fragment) {
      body.replaceChildren(fragment || document.createTextNode(TEXT.failed));
    });
  };

  function init() {
    if (typeof Worker === "undefined" || typeof fetch === "undefined") return;
    var script = document.querySelector("script[src*='kb-suggest.js']");
    if (script) {
      var style = document.createElement("link");
      style.rel = "stylesheet";
      style.href = script.src.replace(/javascripts\/kb-suggest\.js(\?.*)?$/,
        "stylesheets/kb-suggest.css$1");
      document.head.append(style);
    }
    document.querySelectorAll("[data-kb-suggest]").forEach(function (box) {
      var field = document.getElementById(box.getAttribute("data-kb-suggest"));
      if (field && !box.children.length) new Suggestions(field, box);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
