// The live preview of a message template (config/messages/templates/...): as staff type, the
// subject and text are sent to the preview address and the answer, filled with sample values and
// checked, replaces the preview. Nothing is saved; without JavaScript the preview shows on save.
(function () {
  "use strict";
  var form = document.getElementById("template-form");
  if (!form) { return; }
  var timer = null;
  function refresh() {
    var body = new FormData(form);  // subject, text and the CSRF token
    body.append("event", form.dataset.event);
    fetch(form.dataset.preview, {method: "POST", body: body, credentials: "same-origin",
                                 headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (preview) {
        if (!preview) { return; }
        document.getElementById("preview-subject").textContent = preview.subject;
        document.getElementById("preview-body").textContent = preview.body;
        document.getElementById("preview-errors").textContent = Object.values(preview.errors).join("; ");
      });
  }
  form.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 250);
  });
}());
