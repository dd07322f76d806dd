// The cashier's bill form: add and remove item and tender lines, and running totals.
// Plain JavaScript, no build step, no library. Without it the form still works with its fixed lines.
"use strict";
(function () {
  function cents(value) {
    var text = (value || "").trim();
    if (!/^\d+(\.\d{1,2})?$/.test(text)) {
      return 0;
    }
    var parts = text.split(".");
    return parseInt(parts[0], 10) * 100 + parseInt(((parts[1] || "") + "00").slice(0, 2), 10);
  }

  function money(amount) {
    return (amount / 100).toFixed(2);
  }

  function sum(body) {
    var total = 0;
    body.querySelectorAll("input.amount").forEach(function (input) {
      total += cents(input.value);
    });
    return total;
  }

  function renumber(body) {
    // Lines are named prefix-N-field; keep N in order so the server reads them in order.
    var prefix = body.dataset.lines;
    body.querySelectorAll("tr.line").forEach(function (row, index) {
      row.querySelectorAll("input, select").forEach(function (field) {
        var name = field.name.replace(new RegExp("^" + prefix + "-\\d+-"), prefix + "-" + index + "-");
        field.name = name;
        field.id = name;
      });
    });
  }

  function update(form) {
    var items = form.querySelector('tbody[data-lines="item"]');
    var tenders = form.querySelector('tbody[data-lines="tender"]');
    var rate = parseFloat((document.getElementById("discount-rate") || {dataset: {}}).dataset.rate || "0");
    var total = sum(items);
    document.getElementById("items-total").textContent = money(total);
    document.getElementById("due-total").textContent = money(Math.round(total * (1 - rate)));
    document.getElementById("tenders-total").textContent = money(sum(tenders));
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("bill");
    if (!form) {
      return;
    }
    form.querySelectorAll("[hidden].add-line, [hidden].remove-line").forEach(function (button) {
      button.hidden = false;
    });
    form.addEventListener("click", function (event) {
      var button = event.target.closest("button");
      if (!button) {
        return;
      }
      if (button.dataset.addLine) {
        var body = form.querySelector('tbody[data-lines="' + button.dataset.addLine + '"]');
        var last = body.querySelector("tr.line:last-child");
        var copy = last.cloneNode(true);
        copy.querySelectorAll("input").forEach(function (input) {
          input.value = "";
          input.removeAttribute("aria-invalid");
        });
        copy.querySelectorAll(".error").forEach(function (error) {
          error.remove();
        });
        body.appendChild(copy);
        renumber(body);
        copy.querySelector("input, select").focus();
      } else if (button.classList.contains("remove-line")) {
        var row = button.closest("tr");
        var lines = row.parentNode;
        if (lines.querySelectorAll("tr.line").length > 1) {
          row.remove();
          renumber(lines);
        } else {
          row.querySelectorAll("input").forEach(function (input) {
            input.value = "";
          });
        }
      }
      update(form);
    });
    form.addEventListener("input", function () {
      update(form);
    });
    update(form);
  });
})();
