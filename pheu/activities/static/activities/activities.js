// An activity completed from a record's panel adds its line to the history out of band (htmx): clear the
// history's "nothing yet" line as the note form does.
document.addEventListener("htmx:oobAfterSwap", function (event) {
  var target = event.detail.target;
  if (target && target.id === "history") {
    var empty = target.querySelector(".history-empty");
    if (empty) { empty.remove(); }
  }
});
