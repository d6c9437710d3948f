// Pheu's page behaviour: the quick-create modal filled by htmx. No inline scripts in templates.
(function () {
  "use strict";

  function modal() {
    var element = document.getElementById("modal");
    return element && window.bootstrap ? window.bootstrap.Modal.getOrCreateInstance(element) : null;
  }

  // Content loaded into the modal (e.g. by the "+" button) opens it; a form re-rendered with errors
  // stays in the open modal.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "modal-content") {
      var m = modal();
      if (m) { m.show(); }
    }
  });

  document.addEventListener("shown.bs.modal", function (event) {
    var first = event.target.querySelector("[autofocus], input:not([type=hidden]), textarea, select");
    if (first) { first.focus(); }
  });

  // A closed modal forgets its form, so the next opening starts blank.
  document.addEventListener("hidden.bs.modal", function (event) {
    var content = event.target.querySelector(".modal-content");
    if (content) { content.innerHTML = ""; }
  });

  // The note form is swapped out of band after a note is added; clear the "nothing yet" line.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "history") {
      var empty = event.detail.target.querySelector(".history-empty");
      if (empty) { empty.remove(); }
    }
  });
})();

// Enter in a picker's search box (inside a bigger form) searches; it must not submit that form.
document.addEventListener("keydown", function (event) {
  if (event.key === "Enter" && event.target.matches && event.target.matches("[data-picker-search]")) {
    event.preventDefault();
  }
});

// Filter forms send every field; leave the empty ones out of GET requests, so that the URL pushed into
// the history (and shared) says only what is filtered.
document.addEventListener("htmx:configRequest", function (event) {
  var data = event.detail.formData;
  if (event.detail.verb !== "get" || !data) { return; }
  Array.from(new Set(data.keys())).forEach(function (key) {
    if (data.getAll(key).every(function (value) { return value === ""; })) { data.delete(key); }
  });
});

// The lead form: while the probability is automatic, it follows the stage chosen at once (the service gives
// the same value on saving), so the form shows what will be saved.
document.addEventListener("change", function (event) {
  var stage = event.target;
  if (!stage.matches || !stage.matches("#lead-form select[name=stage]")) { return; }
  var data = document.getElementById("stage-probabilities");
  var probability = document.querySelector("#lead-form input[name=probability]");
  var automatic = document.querySelector("#lead-form input[name=auto_probability]");
  if (!data || !probability || (automatic && !automatic.checked)) { return; }
  var value = JSON.parse(data.textContent)[stage.value];
  if (value !== undefined) { probability.value = value; }
});
