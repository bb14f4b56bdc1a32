/* Drives the site search's browser engine (kb-search-engine.js) under Node, over a built
   site folder, for tests and the benchmark: one JSON request per input line, one JSON
   answer per output line.
     {"search": "query", "options": {...}}
         -> {"pages": [...], "locations": [...], "groups": [...], "fetched": [...]}
     {"terms": "text"}                      -> {"terms": {term: count}}
   Usage: node search_node.js ENGINE_JS SITE_DIR */
"use strict";
const fs = require("fs");
const path = require("path");
const readline = require("readline");

const engine = require(path.resolve(process.argv[2]));
const site = path.resolve(process.argv[3]);

function makeFetch(fetched) {
  return (url) => {
    const file = path.join(site, decodeURIComponent(new URL(url).pathname));
    fetched.push(new URL(url).pathname);
    if (!file.startsWith(site) || !fs.existsSync(file)) {
      return Promise.resolve({ ok: false, status: 404 });
    }
    const data = fs.readFileSync(file);
    return Promise.resolve({
      ok: true,
      status: 200,
      json: () => Promise.resolve(JSON.parse(data.toString("utf8"))),
      arrayBuffer: () => Promise.resolve(data.buffer.slice(data.byteOffset, data.byteOffset + data.length)),
    });
  };
}

async function answer(request) {
  if ("terms" in request) {
    return { terms: Object.fromEntries(engine.countTerms(request.terms)) };
  }
  const fetched = [];
  const index = new engine.Index("http://site.invalid/search/kb/", makeFetch(fetched), request.options);
  const found = await index.search(request.search);
  return {
    pages: found.pages.map((p) => "/" + p.url),
    locations: [].concat(...found.pages.map((p) => p.sections.map((s) => "/" + s.location))),
    groups: found.groups.map((g) => g.word),
    fetched: fetched,
  };
}

const lines = readline.createInterface({ input: process.stdin });
let queue = Promise.resolve();
lines.on("line", (line) => {
  queue = queue.then(() => answer(JSON.parse(line)))
    .then((result) => process.stdout.write(JSON.stringify(result) + "\n"))
    .catch((error) => process.stdout.write(JSON.stringify({ error: String(error.stack || error) }) + "\n"));
});
