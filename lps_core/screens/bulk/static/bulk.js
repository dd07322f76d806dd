// The import's progress bar (bulk/imports?batch=N): while a confirmed import is being applied, the
// page posts to its apply address, one chunk per request, and moves the bar with each answer; when
// the import is applied (or stops as stale) the page reloads to show the outcome. Without
// JavaScript the "Continue" button applies one chunk per click. Plain JS, no build step.
(function () {
  "use strict";
  var form = document.getElementById("apply-form");
  if (!form || form.dataset.status !== "applying") { return; }
  var bar = document.getElementById("progress");
  var text = document.getElementById("progress-text");
  var button = document.getElementById("apply-button");
  if (button) { button.hidden = true; }
  function step() {
    fetch(form.action, {method: "POST", body: new FormData(form), credentials: "same-origin",
                        headers: {"Accept": "application/json"}})
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (state) {
        bar.value = state.percent;
        bar.textContent = state.percent + "%";
        text.textContent = state.applied_rows + " / " + (state.to_apply || 0);
        if (state.status === "applying") { step(); } else { window.location.reload(); }
      })
      .catch(function () { if (button) { button.hidden = false; } });
  }
  step();
}());
