// LPS staff screens: small progressive enhancement, no build step, no library.
// - <form data-confirm="Question?"> and <button data-confirm="..."> ask before submitting.
// - <input data-autofocus> gets the focus when the page opens (the cashier's card field).
// - <button data-print> prints the page.
// No inline script or event handler anywhere: the Content-Security-Policy allows only these files.
"use strict";
document.addEventListener("submit", function (event) {
  var form = event.target;
  var button = event.submitter;
  var question = (button && button.dataset.confirm) || form.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
document.addEventListener("DOMContentLoaded", function () {
  var field = document.querySelector("[data-autofocus]");
  if (field) {
    field.focus();
  }
});
document.addEventListener("click", function (event) {
  if (event.target.closest && event.target.closest("[data-print]")) {
    window.print();
  }
});
