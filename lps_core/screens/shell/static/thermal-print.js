// The settlement page's receipt-printer form: sent in the background (no page load), answered in
// JSON, with the answer shown beside the button. A fresh settlement at an outlet whose printer
// prints automatically sends it as soon as the page opens.
(function () {
  "use strict";
  function send(form) {
    var status = document.getElementById("thermal-print-status");
    var button = form.querySelector("button");
    button.disabled = true;
    fetch(form.action, {method: "POST", body: new FormData(form), credentials: "same-origin",
                        headers: {"X-Requested-With": "fetch", "Accept": "application/json"}})
      .then(function (response) { return response.json(); })
      .then(function (answer) {
        status.textContent = answer.message;
        status.className = answer.printed ? "ok" : "error";
      })
      .catch(function () { status.textContent = form.dataset.failed || "!"; status.className = "error"; })
      .finally(function () { button.disabled = false; });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("thermal-print");
    if (!form) { return; }
    form.addEventListener("submit", function (event) { event.preventDefault(); send(form); });
    if (form.dataset.autoPrint) { send(form); }
  });
})();
