// Swipes from the cashier's terminal (lps terminal) appear on the cashier screen: the card number
// is put in the card field (#card_no) and the member is looked up, with no keystroke.
// The page asks LPS for its swipes (POST data-poll?outlet=CODE, long-polling: LPS answers as soon as
// a swipe arrives, or after some seconds with none) and asks again at once. Plain JavaScript, no
// build step; without it (or without a terminal) the card field works as before, also with
// keyboard-wedge readers, which type into it.
"use strict";
(function () {
  var script = document.currentScript;
  var field = document.getElementById("card_no");
  if (!script || !field || !field.form || !window.fetch) {
    return;
  }
  var outletField = field.form.querySelector("input[name=outlet]");
  var outlet = outletField ? outletField.value : new URLSearchParams(location.search).get("outlet");
  var token = document.querySelector("input[name=csrf_token]");
  if (!outlet || !token) {
    return;
  }
  // This page's id: a newer page of the same cashier supersedes this one's waiting poll on the server.
  var pageId = Math.random().toString(36).slice(2) + Date.now().toString(36);
  var url = script.dataset.poll + "?outlet=" + encodeURIComponent(outlet) + "&page=" + pageId;
  var failures = 0;

  function say(text) {
    var status = document.getElementById("swipe-status");
    var field = document.getElementById("card_no");
    if (!status) {
      status = document.createElement("p");
      status.id = "swipe-status";
      status.className = "error";
      status.setAttribute("role", "status");
      field.insertAdjacentElement("afterend", status);
    }
    status.textContent = text;
  }

  function lookUp(cardNo) {
    // Read the field and its form again: a look-up done in place may have replaced them.
    var field = document.getElementById("card_no");
    var form = field.form;
    field.value = cardNo;
    field.dispatchEvent(new Event("input", { bubbles: true }));
    // The cashier screen may offer its own look-up (no page load); else the look-up form is sent.
    if (window.lpsCashier && typeof window.lpsCashier.lookUp === "function") {
      window.lpsCashier.lookUp(cardNo);
      return false;
    }
    if (form.requestSubmit) {
      form.requestSubmit();
    } else {
      form.submit();
    }
    return true;  // the page loads again, and polls again
  }

  function received(swipes) {
    var last = swipes[swipes.length - 1];
    if (!last) {
      return false;
    }
    if (last.card_no) {
      return lookUp(last.card_no);
    }
    say((script.dataset.unknownTag || "No card carries this tag:") + " " + last.tag_id);
    return false;
  }

  function poll() {
    fetch(url, { method: "POST", credentials: "same-origin",
                 headers: { "X-CSRF-Token": token.value, "Accept": "application/json" } })
      .then(function (response) {
        if (response.status === 401 || response.status === 403) {
          throw new Error("stop");  // signed out, or the outlet is not the cashier's: no more polls
        }
        if (!response.ok) {
          throw new Error("retry");
        }
        return response.json();
      })
      .then(function (answer) {
        failures = 0;
        if (!received(answer.swipes || [])) {
          setTimeout(poll, answer.poll_again_ms || 0);
        }
      })
      .catch(function (error) {
        if (error.message === "stop") {
          return;
        }
        failures += 1;  // LPS restarting or the network away: ask again, less and less often
        setTimeout(poll, Math.min(30000, 1000 * Math.pow(2, failures)));
      });
  }

  poll();
})();
