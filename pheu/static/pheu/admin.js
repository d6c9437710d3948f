// The admin's domain fields (pheu.leads.widgets): htmx wires new inline rows too. The preview request
// carries the admin form's CSRF token, as htmx includes the enclosing form's fields in a POST.
document.addEventListener("formset:added", function (event) {
  if (window.htmx && event.target) { window.htmx.process(event.target); }
});
