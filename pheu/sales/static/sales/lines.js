// Sales document lines: "Add a line" adds a formset row; choosing a product fills its description, unit
// price and tax (the server still decides, and computes every amount).
(function () {
  "use strict";
  var data = document.getElementById("product-data");
  var products = {};
  if (data) {
    JSON.parse(data.textContent).forEach(function (p) { products[String(p.id)] = p; });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("#add-line");
    if (!button) { return; }
    var prefix = button.dataset.prefix;
    var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    var template = document.getElementById(button.dataset.template);
    var index = parseInt(total.value, 10);
    var html = template.innerHTML.replace(/__prefix__/g, String(index));
    document.getElementById(button.dataset.target).insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
  });

  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!select.matches || !select.matches(".sales-line select[name$='-product']")) { return; }
    var product = products[select.value];
    if (!product) { return; }
    var row = select.closest(".sales-line");
    var set = function (suffix, value, onlyIfEmpty) {
      var input = row.querySelector("[name$='-" + suffix + "']");
      if (input && (!onlyIfEmpty || !input.value)) { input.value = value; }
    };
    set("description", product.name, false);
    set("unit_price", product.price, false);
    set("tax", product.tax, false);
    set("quantity", "1", true);
  });
})();
