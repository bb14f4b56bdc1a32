/* The search worker behind Material's search dialog, in place of Material's own.

   Material's page script talks to a worker named in the page's config block with four
   messages: SETUP (0, the page's search configuration), READY (1), QUERY (2, the text in
   the box) and RESULT (3, {items: SearchItem[][]}). The dialog, its markup, the "/"
   shortcut, keyboard navigation and highlighting stay Material's; this worker answers from
   the site's own index (kb-search-engine.js), fetching only what each query needs. */
/* global importScripts, KBSearch */
"use strict";

var SETUP = 0, READY = 1, QUERY = 2, RESULT = 3;
var TEXT_LIMIT = 160; // characters of a result's excerpt

// the engine carries the same version query as this worker
importScripts(new URL("kb-search-engine.js" + self.location.search, self.location.href).href);

var index = null;
var latest = 0;

function items(found) {
  return found.pages.map(function (page) {
    var words = found.groups.map(function (g) { return g.word; });
    var matched = page.sections[0].matched;
    var terms = {};
    words.forEach(function (w) { terms[w] = !!matched[w]; });
    var hit = words.filter(function (w) { return matched[w]; });
    var group = [];
    var first = page.sections[0];
    if (first.location.indexOf("#") >= 0) {
      // the best match is a section: Material shows the page above it
      group.push({
        location: page.url,
        title: KBSearch.highlight(page.title, hit),
        text: "",
        terms: terms,
        score: page.score
      });
    }
    page.sections.forEach(function (section) {
      var sectionTerms = {};
      words.forEach(function (w) { sectionTerms[w] = !!section.matched[w]; });
      group.push({
        location: section.location,
        title: KBSearch.highlight(section.title, hit),
        text: KBSearch.highlight(section.text, hit, TEXT_LIMIT),
        terms: sectionTerms,
        score: section.score
      });
    });
    return group;
  });
}

function answer(query, number) {
  if (!query.trim()) {
    self.postMessage({ type: RESULT, data: { items: [] } });
    return;
  }
  index.search(query).then(function (found) {
    if (number !== latest) return; // a newer query is on its way
    self.postMessage({ type: RESULT, data: { items: items(found) } });
  }).catch(function (error) {
    if (number !== latest) return;
    self.postMessage({ type: RESULT, data: { items: [] } });
    setTimeout(function () { throw error; });
  });
}

self.addEventListener("message", function (event) {
  var message = event.data;
  if (message.type === SETUP) {
    // the index sits beside this worker's page: <site>/search/kb/
    var base = new URL("../../search/kb/", self.location.href).href;
    index = new KBSearch.Index(base);
    index.load().catch(function () { /* reported with the first query */ });
    self.postMessage({ type: READY });
  } else if (message.type === QUERY && index) {
    latest += 1;
    answer(message.data, latest);
  }
});
