/* The site's search engine in the browser: reads the index written by cmskb.search.index,
   fetching only the parts a query needs, and ranks the site's sections for a query.

   Text is analysed as in cmskb/search/analyze.py (a test runs both on the same texts):
   NFKC, lower case, a final long-vowel mark dropped from katakana words of 3+ letters;
   bigrams over runs of Japanese script, one-character terms for kanji and katakana, whole
   Latin words (a Latin word still being typed is completed from the index's word list).

   A query is cut into groups that each carry one idea: a head of kanji/katakana with the
   hiragana after it (パスワードを | 忘れた), a Latin word, or a synonym the editors listed.
   A section scores by BM25 (weights from the index times each term's rarity), and by how
   many of the groups it covers (the head's terms all present), so that a question holding
   every idea of the query ranks above one that repeats a single word; a lone particle
   (を, い) makes no group at all. No dependencies; runs in a worker, a page or Node. */
(function (root) {
  "use strict";

  var KANJI = "\u3005\u3006\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff";
  var JA = "\u3041-\u3096\u30a1-\u30fa\u30fc\u30fd\u30fe" + KANJI;
  var RUN = new RegExp("[" + JA + "]+|[a-z0-9]+", "g");
  var CHAR_TERM = new RegExp("^[\u30a1-\u30fa" + KANJI + "]$");
  var HIRAGANA = /^[\u3041-\u3096]$/;
  var HIRAGANA_RUN = /^[\u3041-\u3096]+$/;
  var LONG_VOWEL_END = /(?<=[\u30a1-\u30fa][\u30a1-\u30fa\u30fc])\u30fc(?![\u30a1-\u30fa\u30fc])/g;
  var MAX_COMPLETIONS = 8; // words tried for a Latin word still being typed
  var WIDENED_WEIGHT = 0.9; // a bigram that starts with a one-character query
  var CONTINUATION_MARK = "\u2026";

  var HIRAGANA_GROUP_WEIGHT = 0.3; // a group of hiragana alone weighs less in coverage
  var PREFIX_WEIGHT = 0.8; // a word being typed, matched by its beginning
  var FOLDED_WEIGHT = 0.9; // hiragana typed for a katakana word (ぱすわーど)
  var MIN_SHARE = 0.3; // results score at least this share of the best one
  var MAX_PAGES = 20;

  function normalize(text) {
    return text.normalize("NFKC").toLowerCase().replace(LONG_VOWEL_END, "");
  }

  function isJapanese(run) {
    return run.charCodeAt(0) > 0x7f;
  }

  function runs(normalized) {
    return normalized.match(RUN) || [];
  }

  /* The terms of one run, as analyze.run_terms. */
  function runTerms(run) {
    if (!isJapanese(run)) return [run];
    if (run.length === 1) return CHAR_TERM.test(run) ? [run] : [];
    var terms = [];
    for (var i = 0; i + 1 < run.length; i++) terms.push(run.slice(i, i + 2));
    return terms;
  }

  /* Every term a text holds, with its count (analyze.count_terms): for the parity test. */
  function countTerms(text) {
    var counts = new Map();
    var add = function (term) { counts.set(term, (counts.get(term) || 0) + 1); };
    runs(normalize(text)).forEach(function (run) { runTerms(run).forEach(add); });
    return counts;
  }

  function toKatakana(text) {
    return text.replace(/[\u3041-\u3096]/g, function (c) {
      return String.fromCharCode(c.charCodeAt(0) + 0x60);
    });
  }

  /* Split a Japanese run into groups: kanji/katakana head plus the hiragana after it. */
  function splitGroups(run) {
    var groups = [];
    var current = "";
    for (var i = 0; i < run.length; i++) {
      var c = run[i];
      var hira = HIRAGANA.test(c);
      if (!hira && current && HIRAGANA.test(current[current.length - 1])) {
        groups.push(current);
        current = "";
      }
      current += c;
    }
    if (current) groups.push(current);
    return groups;
  }

  /* The group's core: its head (with one okurigana letter after a single kanji). */
  function core(group) {
    if (HIRAGANA_RUN.test(group)) return group;
    var head = group.replace(/[\u3041-\u3096]+$/, "");
    if (head.length === 1 && group.length > 1 && !/[\u30a1-\u30fa]/.test(head)) {
      return group.slice(0, 2);
    }
    return head;
  }

  /* One alternative of a group: terms that score, terms that must all be there. */
  function alternative(text, glue, weight) {
    var scoring = runTerms(text + glue);
    var needed = runTerms(core(text));
    return { terms: unique(scoring), core: unique(needed), weight: weight };
  }

  function unique(list) {
    return Array.from(new Set(list));
  }

  /* Analyse a query: [{word, alts: [{terms, core, weight}], coverWeight}]. `words` lists
     the index's Latin words, most frequent first, to complete the last one being typed. */
  function analyse(raw, synonyms, words) {
    var text = normalize(raw);
    var complete = /\s$/.test(raw);
    var pieces = splitSynonyms(text, synonyms || []);
    var groups = [];
    pieces.forEach(function (piece) {
      if (piece.members) {
        groups.push({
          word: piece.text,
          alts: piece.members.map(function (m) {
            return alternative(m, "", m === piece.text ? 1 : 0.95);
          }),
          coverWeight: 1
        });
        return;
      }
      runs(piece.text).forEach(function (run, index, all) {
        if (!isJapanese(run)) {
          var last = piece.last && index === all.length - 1 && !complete;
          var alts = [{ terms: [run], core: [run], weight: 1 }];
          if (last) {
            (words || []).filter(function (w) { return w !== run && w.indexOf(run) === 0; })
              .slice(0, MAX_COMPLETIONS)
              .forEach(function (w) { alts.push({ terms: [w], core: [w], weight: PREFIX_WEIGHT }); });
          }
          groups.push({ word: run, alts: alts, coverWeight: 1 });
          return;
        }
        var parts = splitGroups(run);
        parts.forEach(function (part, i) {
          var glue = i + 1 < parts.length ? parts[i + 1][0] : "";
          var hiraganaOnly = HIRAGANA_RUN.test(part);
          if (hiraganaOnly && part.length < 2) return; // a particle alone
          var alts = [alternative(part, glue, 1)];
          if (!alts[0].terms.length) return;
          if (hiraganaOnly) alts.push(alternative(normalize(toKatakana(part)), "", FOLDED_WEIGHT));
          groups.push({
            word: core(part),
            alts: alts,
            coverWeight: hiraganaOnly ? HIRAGANA_GROUP_WEIGHT : 1,
            // one kanji or katakana alone: widened to the bigrams it starts
            widen: core(part).length === 1 && CHAR_TERM.test(core(part)) ? core(part) : null
          });
        });
      });
    });
    return groups;
  }

  /* Cut the text around occurrences of synonym-list words (longest first). */
  function splitSynonyms(text, synonyms) {
    var members = [];
    synonyms.forEach(function (group) {
      group.forEach(function (word) { if (word) members.push({ word: word, group: group }); });
    });
    members.sort(function (a, b) { return b.word.length - a.word.length; });
    var pieces = [];
    var rest = text;
    while (rest) {
      var best = null;
      members.forEach(function (m) {
        var at = rest.indexOf(m.word);
        if (at >= 0 && (best === null || at < best.at)) best = { at: at, m: m };
      });
      if (best === null) {
        pieces.push({ text: rest, last: true });
        break;
      }
      if (best.at > 0) pieces.push({ text: rest.slice(0, best.at), last: false });
      pieces.push({ text: best.m.word, members: best.m.group });
      rest = rest.slice(best.at + best.m.word.length);
    }
    return pieces;
  }

  /* --- reading the index ---------------------------------------------------------- */

  function fnv1a(term) {
    var h = 0x811c9dc5;
    for (var i = 0; i < term.length; i++) {
      h ^= term.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    return h >>> 0;
  }

  /* A term shard, as cmskb.search.index._encode_shards writes it. */
  function decodeShard(buffer) {
    var bytes = new Uint8Array(buffer);
    var view = new DataView(buffer);
    var pos = 0;
    var decoder = new TextDecoder();
    function varint() {
      var value = 0, shift = 0, b;
      do {
        b = bytes[pos++];
        value += (b & 0x7f) * Math.pow(2, shift);
        shift += 7;
      } while (b & 0x80);
      return value;
    }
    var terms = new Map();
    var count = varint();
    for (var t = 0; t < count; t++) {
      var length = varint();
      var term = decoder.decode(bytes.subarray(pos, pos + length));
      pos += length;
      var n = varint();
      if (n === 0) { // "<char>…": the second characters of the bigrams it starts
        var size = varint();
        terms.set(term, { next: Array.from(decoder.decode(bytes.subarray(pos, pos + size))) });
        pos += size;
        continue;
      }
      var width = bytes[pos++];
      var sections = new Uint32Array(n);
      var previous = 0;
      for (var i = 0; i < n; i++) {
        previous += width === 2 ? view.getUint16(pos, true) : view.getUint32(pos, true);
        pos += width;
        sections[i] = previous;
      }
      var weights = bytes.slice(pos, pos + n);
      pos += n;
      terms.set(term, { sections: sections, weights: weights });
    }
    return terms;
  }

  /* An index at `base` (the URL of the folder holding manifest.json). `options` switch
     parts of the query handling off, for the benchmark that shows what each buys:
     {synonyms: false} ignores the editors' synonyms, {coverage: false} ranks by BM25 alone. */
  function Index(base, fetchImpl, options) {
    this.base = base;
    this.fetch = fetchImpl || root.fetch.bind(root);
    this.options = options || {};
    this.manifest = null;
    this.shards = new Map();
    this.chunks = new Map();
  }

  Index.prototype.load = function () {
    if (!this.manifest) {
      this.manifest = this.fetch(new URL("manifest.json", this.base).href, { cache: "no-cache" })
        .then(function (r) {
          if (!r.ok) throw new Error("search manifest: HTTP " + r.status);
          return r.json();
        });
    }
    return this.manifest;
  };

  Index.prototype._file = function (cache, name, parse) {
    var self = this;
    if (!cache.has(name)) {
      cache.set(name, this.load().then(function (m) {
        var url = new URL(m.build + "/" + name, self.base).href;
        return self.fetch(url).then(function (r) {
          if (r.status === 404) return null;
          if (!r.ok) throw new Error("search index: HTTP " + r.status + " for " + name);
          return parse(r);
        });
      }).catch(function (error) { cache.delete(name); throw error; }));
    }
    return cache.get(name);
  };

  /* Add to each one-character group the bigrams the index says start with it. */
  Index.prototype.widen = function (groups) {
    var self = this;
    return Promise.all(groups.map(function (group) {
      if (!group.widen) return null;
      return self.postings(group.widen + CONTINUATION_MARK).then(function (entry) {
        ((entry && entry.next) || []).forEach(function (second) {
          var bigram = group.widen + second;
          group.alts.push({ terms: [bigram], core: [bigram], weight: WIDENED_WEIGHT });
        });
      });
    })).then(function () { return groups; });
  };

  Index.prototype.postings = function (term) {
    var self = this;
    return this.load().then(function (m) {
      var name = "t/" + (fnv1a(term) % m.shards) + ".bin";
      return self._file(self.shards, name, function (r) {
        return r.arrayBuffer().then(decodeShard);
      });
    }).then(function (shard) { return (shard && shard.get(term)) || null; });
  };

  Index.prototype.rows = function (sections) {
    var self = this;
    return this.load().then(function (m) {
      var wanted = unique(sections.map(function (s) { return Math.floor(s / m.chunk); }));
      return Promise.all(wanted.map(function (c) {
        return self._file(self.chunks, "d/" + c + ".json", function (r) { return r.json(); })
          .then(function (rows) { return [c, rows]; });
      })).then(function (loaded) {
        var byChunk = new Map(loaded);
        return sections.map(function (s) {
          var rows = byChunk.get(Math.floor(s / m.chunk));
          var row = rows && rows[s % m.chunk];
          return row ? { location: row[0], title: row[1], text: row[2], pageTitle: row[3] || null } : null;
        });
      });
    });
  };

  /* --- ranking -------------------------------------------------------------------- */

  function idf(total, df) {
    return Math.log(1 + (total - df + 0.5) / (df + 0.5));
  }

  /* Rank sections for `raw`: [{section, score, coverage, matched: {word: bool}}] */
  Index.prototype.rank = function (raw) {
    var self = this;
    return this.load().then(function (m) {
      var synonyms = self.options.synonyms === false ? [] : m.synonyms;
      return self.widen(analyse(raw, synonyms, m.words)).then(function (groups) {
        if (!groups.length) return { groups: groups, hits: [] };
        var terms = unique([].concat.apply([], groups.map(function (g) {
          return [].concat.apply([], g.alts.map(function (a) { return a.terms.concat(a.core); }));
        })));
        return Promise.all(terms.map(function (t) { return self.postings(t); }))
          .then(function (lists) {
            var postings = new Map();
            terms.forEach(function (t, i) { if (lists[i] && lists[i].sections) postings.set(t, lists[i]); });
            var coverage = self.options.coverage !== false;
            return { groups: groups, hits: score(groups, postings, m.sections, m.scale, coverage) };
          });
      });
    });
  };

  function score(groups, postings, total, scale, useCoverage) {
    // weight of each (term, section) as a Map per term
    var weights = new Map();
    postings.forEach(function (list, term) {
      var map = new Map();
      for (var i = 0; i < list.sections.length; i++) map.set(list.sections[i], list.weights[i] / scale);
      weights.set(term, { map: map, idf: idf(total, list.sections.length) });
    });
    var candidates = new Set();
    weights.forEach(function (w) { w.map.forEach(function (_, s) { candidates.add(s); }); });
    var coverTotal = groups.reduce(function (sum, g) { return sum + g.coverWeight; }, 0);
    var hits = [];
    candidates.forEach(function (section) {
      var total = 0, covered = 0, matched = {};
      groups.forEach(function (group) {
        var best = 0, cover = 0;
        group.alts.forEach(function (alt) {
          var sum = 0;
          alt.terms.forEach(function (t) {
            var w = weights.get(t);
            var v = w && w.map.get(section);
            if (v) sum += v * w.idf;
          });
          best = Math.max(best, sum * alt.weight);
          if (alt.core.length) {
            var present = alt.core.filter(function (t) {
              var w = weights.get(t);
              return w && w.map.has(section);
            }).length;
            cover = Math.max(cover, present / alt.core.length);
          }
        });
        total += best;
        covered += cover * group.coverWeight;
        matched[group.word] = (matched[group.word] || false) || cover === 1;
      });
      var coverage = coverTotal ? covered / coverTotal : 0;
      // a section that holds none of the query's ideas (only bigrams such as ない that
      // span a word's ending) is no result
      if (total > 0 && (coverage > 0 || !useCoverage)) {
        hits.push({
          section: section,
          score: useCoverage ? total * (0.15 + 0.85 * coverage * coverage) : total,
          coverage: coverage,
          matched: matched
        });
      }
    });
    hits.sort(function (a, b) { return b.score - a.score || a.section - b.section; });
    return hits;
  }

  /* The best pages for `raw`: [{location, title, pageTitle, text, score, matched, sections}]
     Each page lists its matching sections, best first. */
  Index.prototype.search = function (raw) {
    var self = this;
    return this.rank(raw).then(function (ranked) {
      var hits = ranked.hits;
      var floor = hits.length ? hits[0].score * MIN_SHARE : 0;
      var kept = hits.filter(function (h) { return h.score >= floor; });
      var found = { groups: ranked.groups, pages: [] };
      var byUrl = new Map();
      // Result texts are fetched a batch of hits at a time, best first, until the list
      // is full: a query that matches thousands of sections reads only what is shown.
      function next(start) {
        if (start >= kept.length || found.pages.length >= MAX_PAGES) return found;
        var batch = kept.slice(start, start + MAX_PAGES);
        return self.rows(batch.map(function (h) { return h.section; })).then(function (rows) {
          batch.forEach(function (hit, i) { addHit(found.pages, byUrl, hit, rows[i]); });
          return next(start + batch.length);
        });
      }
      return next(0);
    });
  };

  function addHit(pages, byUrl, hit, row) {
    if (!row) return;
    var url = row.location.split("#")[0];
    var page = byUrl.get(url);
    if (!page) {
      if (pages.length >= MAX_PAGES) return;
      page = { url: url, title: row.pageTitle || row.title, score: hit.score, sections: [] };
      byUrl.set(url, page);
      pages.push(page);
    }
    page.sections.push({
      location: row.location, title: row.title, text: row.text,
      score: hit.score, matched: hit.matched
    });
  }

  /* --- highlighting --------------------------------------------------------------- */

  function escapeHtml(text) {
    return text.replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  /* Ranges of `text` where any of `words` (normalized) occurs, compared char by char in
     NFKC lower case so that full-width letters in the page still light up. */
  function ranges(text, words) {
    var folded = "", map = [];
    for (var i = 0; i < text.length; i++) {
      var f = text[i].normalize("NFKC").toLowerCase();
      for (var k = 0; k < f.length; k++) { folded += f[k]; map.push(i); }
    }
    map.push(text.length);
    var found = [];
    words.forEach(function (word) {
      if (!word) return;
      var at = folded.indexOf(word);
      while (at >= 0) {
        found.push([map[at], map[at + word.length]]);
        at = folded.indexOf(word, at + word.length);
      }
    });
    found.sort(function (a, b) { return a[0] - b[0] || b[1] - a[1]; });
    var merged = [];
    found.forEach(function (r) {
      var last = merged[merged.length - 1];
      if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
      else merged.push([r[0], r[1]]);
    });
    return merged;
  }

  /* HTML of `text` with `words` marked; cut to about `limit` characters around the first
     mark when `limit` is given. */
  function highlight(text, words, limit) {
    var marks = ranges(text, words);
    var start = 0, end = text.length;
    if (limit && text.length > limit) {
      var first = marks.length ? marks[0][0] : 0;
      start = Math.max(0, Math.min(first - Math.floor(limit / 4), text.length - limit));
      end = Math.min(text.length, start + limit);
    }
    var out = start > 0 ? "…" : "";
    var pos = start;
    marks.forEach(function (r) {
      var a = Math.max(r[0], start), b = Math.min(r[1], end);
      if (b <= a || a < pos) return;
      out += escapeHtml(text.slice(pos, a)) + "<mark data-md-highlight>" + escapeHtml(text.slice(a, b)) + "</mark>";
      pos = b;
    });
    out += escapeHtml(text.slice(pos, end)) + (end < text.length ? "…" : "");
    return out;
  }

  var api = {
    normalize: normalize,
    countTerms: countTerms,
    analyse: analyse,
    fnv1a: fnv1a,
    decodeShard: decodeShard,
    highlight: highlight,
    escapeHtml: escapeHtml,
    Index: Index
  };
  root.KBSearch = api;
  if (typeof module === "object" && module.exports) module.exports = api;
})(typeof self !== "undefined" ? self : globalThis);
