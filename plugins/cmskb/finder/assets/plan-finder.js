/* Plan finder on the plans page: looks up answers precomputed by cmskb.finder.page
   (plan-finder.json) and shows them. No rules live here: the build made every answer. */
(function () {
  "use strict";
  var root = document.getElementById("plan-finder");
  if (!root) return;
  var form = document.getElementById("pf-form");
  var status = document.getElementById("pf-status");
  var result = document.getElementById("pf-result");
  var dataUrl = new URL(root.getAttribute("data-src"), document.baseURI);
  var loading = null;

  function load() {
    if (!loading) {
      loading = fetch(dataUrl).then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      });
      loading.catch(function () { loading = null; });
    }
    return loading;
  }

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function yen(n) { return n.toLocaleString("ja-JP") + "円"; }

  function count(id, data) {
    var input = document.getElementById(id);
    var text = input.value.trim().replace(/[０-９]/g, function (c) {
      return String.fromCharCode(c.charCodeAt(0) - 0xfee0);
    });
    var ok = /^\d+$/.test(text) && Number(text) <= data.maxCases;
    input.setAttribute("aria-invalid", ok ? "false" : "true");
    return ok ? Number(text) : null;
  }

  function steps(data, shape, first, later) {
    return shape.map(function (step) {
      var start = step[1], years = step[2];
      var cases = start === 1 ? first + (years - 1) * later : years * later;
      return data.segs[step[0] + start + "-" + years + ":" + cases + step[3]];
    });
  }

  // incl, excl, add-ons, spots, unused, purchases: the sums over an option's periods
  function totals(segs) {
    var total = [0, 0, 0, 0, 0, 0];
    segs.forEach(function (s) { for (var i = 0; i < 6; i++) total[i] += s[4 + i]; });
    return total;
  }

  function renderOption(number, segs, total, best) {
    var item = el("li", undefined, "kb-finder__option");
    var title = number === 1 ? "最安" : "次点、最安との差 " + yen(total[0] - best);
    item.appendChild(el("h3", "案" + number + "(" + title + "): 合計 " + yen(total[0]) + "(税込)"));
    item.appendChild(el("p", "税別 " + yen(total[1]) + "/購入 " + total[5] + "点(追加チケット " +
      total[2] + "枚、スポットチケット " + total[3] + "枚)/使われないチケット " + total[4] + "枚"));
    var list = el("ol", undefined, "kb-finder__steps");
    segs.forEach(function (s) {
      var li = el("li");
      var head = el("p");
      head.appendChild(el("strong", s[0] + ": "));
      head.appendChild(document.createTextNode(s[1]));
      li.appendChild(head);
      li.appendChild(el("p", "料金: " + s[2]));
      li.appendChild(el("p", s[3]));
      list.appendChild(li);
    });
    item.appendChild(list);
    return item;
  }

  function show(data) {
    var product = data.products[form.elements.product.value];
    var vu = form.elements.version_ups.value === "yes";
    var contract = form.elements.contract.value === "yes";
    var years = Number(form.elements.years.value);
    var first = count("pf-first-year", data);
    var later = years > 1 ? count("pf-later-years", data) : 0;
    result.replaceChildren();
    if (!product || first === null || later === null || !(years >= 1 && years <= data.maxYears)) {
      status.textContent = "件数は0〜" + data.maxCases + "の整数で入力してください。";
      return;
    }
    var answer = product.answers[(vu ? 2 : 0) + (contract ? 0 : 1)];
    answer[1].forEach(function (note) { result.appendChild(el("p", note, "kb-finder__note")); });
    if (answer[0] < 0) {
      status.textContent = "条件に合う組み合わせはありません。" + answer[2];
      return;
    }
    var shapes = data.lists[data.q[answer[0]][years - 1][first][years > 1 ? later : 0]];
    if (!shapes.length) {
      status.textContent = "条件に合う組み合わせはありません。";
      return;
    }
    var options = el("ol", undefined, "kb-finder__options");
    var best = 0;
    shapes.forEach(function (shapeId, i) {
      var segs = steps(data, data.shapes[shapeId], first, later);
      var total = totals(segs);
      if (i === 0) best = total[0];
      options.appendChild(renderOption(i + 1, segs, total, best));
    });
    result.appendChild(options);
    var rules = el("p", "計算は、", "kb-finder__note");
    var link = el("a", "この診断の前提");
    link.href = "#pf-rules";
    rules.appendChild(link);
    rules.appendChild(document.createTextNode("(1案件のチケット数、契約の持ち方など)に立っています。"));
    result.appendChild(rules);
    status.textContent = "いちばん安い組み合わせは合計" + yen(best) + "(税込)です。" +
      (shapes.length > 1 ? "差が" + data.margin + "%以内の次点もあわせて示します。" : "");
  }

  function syncLater() {
    var later = document.getElementById("pf-later-years");
    later.disabled = form.elements.years.value === "1";
  }

  form.hidden = false;
  syncLater();
  form.elements.years.addEventListener("change", syncLater);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    status.textContent = "計算しています…";
    load().then(show, function () {
      status.textContent = "データを読み込めませんでした。ページを再読み込みするか、料金表とプランの選び方をご覧ください。";
    });
  });
})();
