// Selection of rows in the lead list, for the "Merge" and "Convert" actions (pheu.leads.views.duplicates).
// The table is swapped by htmx (filters, sorting, pages), so the checkboxes are (re)added after each swap;
// a row's id is read from its record link (/leads/<id>/). Chosen ids survive swaps within the page.
(function () {
  "use strict";
  const chosen = new Set();

  function rowId(row) {
    const link = row.querySelector("td a[href]");
    const match = link && link.getAttribute("href").match(/\/(\d+)\/$/);
    return match ? match[1] : null;
  }

  function refresh(form) {
    const count = form.querySelector("[data-selection-count]");
    if (count) count.textContent = String(chosen.size);
    form.querySelectorAll("button[data-needs]").forEach(function (button) {
      button.disabled = chosen.size < Number(button.dataset.needs);
    });
    form.classList.toggle("d-none", chosen.size === 0);
  }

  function decorate() {
    const form = document.getElementById("lead-selection");
    const table = document.querySelector("#lead-table table");
    if (!form || !table) return;
    const head = table.querySelector("thead tr");
    if (head && !head.querySelector(".select-col")) {
      const th = document.createElement("th");
      th.className = "select-col";
      th.scope = "col";
      th.innerHTML = '<span class="visually-hidden">' + form.dataset.labelSelect + "</span>";
      head.prepend(th);
    }
    table.querySelectorAll("tbody tr").forEach(function (row) {
      if (row.querySelector(".select-col")) return;
      const id = rowId(row);
      const td = document.createElement("td");
      td.className = "select-col";
      if (id) {
        const box = document.createElement("input");
        box.type = "checkbox";
        box.className = "form-check-input lead-select";
        box.value = id;
        box.checked = chosen.has(id);
        box.setAttribute("aria-label", form.dataset.labelSelect);
        box.addEventListener("change", function () {
          if (box.checked) chosen.add(id); else chosen.delete(id);
          refresh(form);
        });
        td.appendChild(box);
      }
      row.prepend(td);
    });
    refresh(form);
  }

  document.addEventListener("submit", function (event) {
    const form = event.target.closest && event.target.closest("#lead-selection");
    if (!form) return;
    const submitter = event.submitter;
    if (submitter && submitter.formAction) form.action = submitter.formAction;
    form.querySelectorAll("input[name=ids]").forEach(function (input) { input.remove(); });
    chosen.forEach(function (id) {
      const input = document.createElement("input");
      input.type = "hidden";
      input.name = "ids";
      input.value = id;
      form.appendChild(input);
    });
  });
  document.addEventListener("DOMContentLoaded", decorate);
  document.body && document.body.addEventListener("htmx:afterSettle", decorate);
  if (document.readyState !== "loading") decorate();
})();
