/* "役に立ちましたか?" on question pages and the voted popular questions on the home page.
   Talks to the forms sidecar under /forms/votes/ (forms_app/votes). Without JavaScript,
   or when the sidecar does not answer, the vote's placeholder stays empty and the home
   page keeps the editors' list. */
(function () {
  "use strict";

  var BASE = "/forms/votes/";
  var TEXT = {
    question: "役に立ちましたか?",
    yes: "はい",
    no: "いいえ",
    voted: { yes: "「はい」と回答済みです。", no: "「いいえ」と回答済みです。" },
    change: "変えるときは、もう一方のボタンを押してください。",
    failed: "回答を記録できませんでした。少し待ってからもう一度お試しください。",
    more: "ご不便をおかけしました。足りない点やわかりにくい点は、",
    form: "FAQ・マニュアルへの記載要望",
    moreEnd: "からお知らせください。"
  };

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      });
  }

  function element(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      node.setAttribute(name, attrs[name]);
    });
    if (text) {
      node.textContent = text;
    }
    return node;
  }

  function Widget(root, questionId, first) {
    this.root = root;
    this.id = questionId;
    this.url = BASE + encodeURIComponent(questionId);
    this.token = first.token;
    this.vote = first.vote;
    this.busy = false;
    this.build();
    this.show(this.vote ? TEXT.voted[this.vote] + TEXT.change : "");
  }

  Widget.prototype.build = function () {
    var self = this;
    var labelId = "kb-vote-label-" + this.id;
    var group = element("div", { "class": "kb-vote__buttons", role: "group",
      "aria-labelledby": labelId });
    this.buttons = {};
    ["yes", "no"].forEach(function (choice) {
      var button = element("button", { type: "button", "class": "md-button kb-vote__button",
        "data-vote": choice, "aria-pressed": "false" }, TEXT[choice]);
      button.addEventListener("click", function () {
        self.send(choice, true);
      });
      self.buttons[choice] = button;
      group.appendChild(button);
    });
    this.status = element("p", { "class": "kb-vote__status", role: "status" });
    var page = "/faq/" + this.id + "/";
    this.more = element("p", { "class": "kb-vote__more" });
    this.more.appendChild(document.createTextNode(TEXT.more));
    this.more.appendChild(element("a", { href: "/forms/docs-request/?page=" + page }, TEXT.form));
    this.more.appendChild(document.createTextNode(TEXT.moreEnd));
    this.root.appendChild(element("p", { "class": "kb-vote__question", id: labelId },
      TEXT.question));
    this.root.appendChild(group);
    this.root.appendChild(this.status);
    this.root.appendChild(this.more);
  };

  Widget.prototype.show = function (message) {
    var vote = this.vote;
    Object.keys(this.buttons).forEach(function (choice) {
      this.buttons[choice].setAttribute("aria-pressed", String(choice === vote));
    }, this);
    this.status.textContent = message;
    this.more.hidden = vote !== "no";
  };

  Widget.prototype.send = function (choice, retry) {
    var self = this;
    if (this.busy) {
      return;
    }
    this.busy = true;
    this.root.setAttribute("aria-busy", "true");
    fetch(this.url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json",
        "X-CSRFToken": this.token },
      body: JSON.stringify({ vote: choice })
    }).then(function (response) {
      return response.json().catch(function () {
        return {};
      }).then(function (data) {
        return { ok: response.ok, data: data };
      });
    }).then(function (answer) {
      self.busy = false;
      self.root.removeAttribute("aria-busy");
      if (answer.ok) {
        self.vote = answer.data.vote;
        self.show(answer.data.message + TEXT.voted[self.vote] + TEXT.change);
      } else if (answer.data.csrf && retry) {
        /* The token expired while the page stayed open: fetch a new one, try once more. */
        getJSON(self.url).then(function (fresh) {
          self.token = fresh.token;
          self.send(choice, false);
        }, function () {
          self.show(TEXT.failed);
        });
      } else {
        /* The recorded vote stays as it was (e.g. too many votes in a short time). */
        self.show(answer.data.message || TEXT.failed);
      }
    }, function () {
      self.busy = false;
      self.root.removeAttribute("aria-busy");
      self.show(TEXT.failed);
    });
  };

  document.querySelectorAll("[data-kb-vote]").forEach(function (root) {
    var id = root.getAttribute("data-kb-vote");
    if (!id || root.childElementCount) {
      return;
    }
    getJSON(BASE + encodeURIComponent(id)).then(function (first) {
      new Widget(root, id, first);
    }, function () {
      /* No sidecar here (a static copy of the site): no widget. */
    });
  });

  var popular = document.querySelector("[data-kb-popular]");
  var list = popular && popular.querySelector("ol");
  if (list) {
    getJSON(BASE + "popular.json").then(function (data) {
      var found = (data && data.questions) || [];
      if (!found.length) {
        return;
      }
      var items = document.createDocumentFragment();
      found.forEach(function (question) {
        var item = element("li");
        item.appendChild(element("a", { href: question.url }, question.title));
        items.appendChild(item);
      });
      list.replaceChildren(items);
      popular.setAttribute("data-kb-popular-source", "votes");
    }, function () {
      /* Keep the editors' list. */
    });
  }
}());
