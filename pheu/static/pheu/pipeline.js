// The pipeline's behaviour: drag and drop of cards between columns (SortableJS), saved by htmx; a refused
// drop puts the card back and shows why. Also: folding columns, the quick-create form of a column, and the
// drag-and-drop order of the stages on their configuration page.
(function () {
  "use strict";

  var pending = new WeakMap(); // card element → how to put it back if the server refuses the move

  function showError(text) {
    var box = document.getElementById("pipeline-error");
    if (!box) { return; }
    box.querySelector(".pipeline-error-text").textContent = text;
    box.classList.remove("d-none");
  }

  function hideError() {
    var box = document.getElementById("pipeline-error");
    if (box) { box.classList.add("d-none"); }
  }

  function boardState(name) {
    var input = document.querySelector("#pipeline-board .board-state[name=" + name + "]");
    return input ? input.value : "";
  }

  function onDrop(event) {
    var card = event.item;
    if (event.from === event.to) { return; } // the order inside a column is not stored
    var board = document.getElementById("pipeline-board");
    var stage = event.to.dataset.stage;
    var from = event.from;
    var oldIndex = event.oldIndex;
    pending.set(card, function () {
      var reference = from.children[oldIndex] || null;
      from.insertBefore(card, reference);
    });
    hideError();
    var url = board.dataset.moveUrl.replace("/0/", "/" + card.dataset.id + "/");
    window.htmx.ajax("POST", url, {
      source: card,
      target: card,
      swap: "outerHTML",
      values: { stage: stage, filter: boardState("filter") }
    });
  }

  // A refused move (422): the card goes back where it was, and the reason is shown above the board.
  document.addEventListener("htmx:responseError", function (event) {
    var card = event.detail.elt;
    var revert = card && pending.get(card);
    if (!revert) { return; }
    pending.delete(card);
    revert();
    showError(event.detail.xhr.responseText);
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.successful && event.detail.elt) { pending.delete(event.detail.elt); }
  });

  function initBoard(root) {
    if (!window.Sortable) { return; }
    root.querySelectorAll(".kanban-cards").forEach(function (list) {
      if (list.dataset.sortable || !list.dataset.stage) { return; }
      list.dataset.sortable = "1";
      window.Sortable.create(list, {
        group: "pipeline",
        animation: 150,
        draggable: ".kanban-card",
        filter: "a, button, input",
        preventOnFilter: false,
        ghostClass: "opacity-50",
        onEnd: onDrop
      });
    });
  }

  function initStages(root) {
    var rows = root.querySelector("#stage-rows");
    if (!rows || !window.Sortable || rows.dataset.sortable) { return; }
    rows.dataset.sortable = "1";
    window.Sortable.create(rows, {
      handle: ".stage-handle",
      animation: 150,
      onEnd: function () {
        var ids = Array.from(rows.querySelectorAll("tr[data-id]")).map(function (row) { return row.dataset.id; });
        var body = new URLSearchParams();
        ids.forEach(function (id) { body.append("stages", id); });
        var token = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"];
        fetch(rows.dataset.reorderUrl, {
          method: "POST",
          headers: { "X-CSRFToken": token, "Content-Type": "application/x-www-form-urlencoded" },
          body: body,
          credentials: "same-origin"
        }).then(function (response) {
          if (!response.ok) { return response.text().then(showError); }
          hideError();
        });
      }
    });
  }

  document.addEventListener("click", function (event) {
    var fold = event.target.closest("[data-pipeline-fold]");
    if (fold) {
      var column = fold.closest(".kanban-column");
      var folded = column.classList.toggle("folded");
      fold.setAttribute("aria-expanded", folded ? "false" : "true");
      return;
    }
    var add = event.target.closest("[data-pipeline-add]");
    if (add) {
      var form = document.getElementById("quick-form-" + add.dataset.pipelineAdd);
      if (form) {
        form.classList.toggle("d-none");
        var first = form.querySelector("input:not([type=hidden])");
        if (first && !form.classList.contains("d-none")) { first.focus(); }
      }
      return;
    }
    if (event.target.closest("[data-pipeline-dismiss]")) { hideError(); }
  });

  function init(root) {
    initBoard(root);
    initStages(root);
  }

  // A board the browser shows again on Back or Forward as the page was left (its back-forward cache: red
  // refusal and all) is stale once a move was made elsewhere, e.g. on the record's form after a refusal:
  // its cards are fetched again and the old refusal goes (issue 27). The page itself is never cached
  // (pheu.leads.views.pipeline.pipeline), so a Back that loads it again gets it as it is now.
  window.addEventListener("pageshow", function (event) {
    var board = document.getElementById("pipeline-board");
    if (!event.persisted || !board || !window.htmx) { return; }
    hideError();
    window.htmx.ajax("GET", window.location.href, { target: "#pipeline-board", swap: "innerHTML" });
  });

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (event) { init(event.detail.elt.parentElement || document); });
})();
