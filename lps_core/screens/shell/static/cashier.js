// The cashier's screen as a till: the quick bill (an amount, the member's discount, the amount due),
// buttons and function keys that pay the rest, Enter to the next field that matters, Esc to clear,
// and the look-up and the settlement done in place (fetch, no page load), the receipt printed as
// soon as the bill is settled. Plain JavaScript, no build step, no library. Without it every form
// still works as a plain form post (the look-up, the bill with its fixed lines, the settlement page).
//
// For other scripts (swipes.js, a terminal's live swipes): window.lpsCashier.lookUp(cardNo) puts
// the number in the card field (#card_no) and looks the card up in place.
"use strict";
(function () {
  var KEYS = { F2: "newBill", F3: "payBalance", F4: "payCash", F5: "payBankCard", F7: "deposit",
               F8: "refund", F9: "settle", F10: "print" };
  var settled = null;  // the last settlement shown in place: {print_url, receipt_url, settlement_url}
  var multiplier = null;  // the points multiplier coupon chosen for this bill, applied once it is settled

  function cents(value) {
    var text = (value || "").trim();
    if (!/^\d+(\.\d{1,2})?$/.test(text)) {
      return 0;
    }
    var parts = text.split(".");
    return parseInt(parts[0], 10) * 100 + parseInt(((parts[1] || "") + "00").slice(0, 2), 10);
  }

  function money(amount) {
    // The page's locale formats figures as the server does (grouping, decimal mark): the server's
    // own rendering of 0.00 (data-zero) tells the marks; amounts typed in stay plain "12.34".
    var zero = (document.getElementById("due-total") || { dataset: {} }).dataset.zero || "0.00";
    var mark = zero.replace(/[0-9]/g, "").slice(-1) || ".";
    var fixed = (Math.abs(amount) / 100).toFixed(2).split(".");
    var whole = fixed[0].replace(/\B(?=(\d{3})+(?!\d))/g, mark === "," ? "." : ",");
    return (amount < 0 ? "-" : "") + zero.replace(/[0-9.,]+/, whole + mark + fixed[1]);
  }

  function plain(amount) {
    return (amount / 100).toFixed(2);
  }

  function discount(amount, rate) {
    // Half up on the line, in whole cents, as the settlement computes it (rate a decimal string).
    var parts = (rate || "0").split(".");
    var den = Math.pow(10, (parts[1] || "").length);
    var num = parseInt(parts[0] + (parts[1] || ""), 10) || 0;
    return Math.floor((2 * amount * num + den) / (2 * den));
  }

  function byId(id) {
    return document.getElementById(id);
  }

  function bill() {
    return byId("bill");
  }

  function lines(form, prefix) {
    return Array.prototype.slice.call(form.querySelectorAll('tbody[data-lines="' + prefix + '"] tr.line'));
  }

  function field(row, name) {
    return row.querySelector('[name$="-' + name + '"]');
  }

  // -- the bill's figures ---------------------------------------------------------------------

  function figures(form) {
    var rates = JSON.parse(form.dataset.rates || "{}");
    var gross = 0;
    var off = 0;
    var itemized = false;
    lines(form, "item").forEach(function (row) {
      var amount = cents(field(row, "amount").value);
      if (amount) {
        itemized = true;
        gross += amount;
        var category = field(row, "category").value;
        off += discount(amount, category in rates ? rates[category] : rates[""]);
      }
    });
    var quick = byId("amount");
    if (itemized) {
      quick.value = plain(gross);  // the items decide the amount
    } else {
      gross = cents(quick.value);
      off = discount(gross, rates[""]);
    }
    quick.readOnly = itemized;
    var paid = 0;
    lines(form, "tender").forEach(function (row) {
      paid += cents(field(row, "amount").value);
    });
    return { gross: gross, discount: off, due: gross - off, paid: paid, rest: gross - off - paid, itemized: itemized };
  }

  function update(form) {
    var f = figures(form);
    byId("due-total").textContent = f.gross ? money(f.due) : "-";
    byId("discount-total").textContent = f.gross ? money(f.discount) : "-";
    byId("items-total").textContent = f.itemized ? money(f.gross) : "-";
    byId("tenders-total").textContent = money(f.paid);
    byId("rest").textContent = f.gross ? money(f.rest) : "-";
    offers().forEach(function (offer) {
      // Under its minimum spend a coupon is greyed out (a multiplier is checked once the bill is posted).
      offer.querySelector("button").disabled = offer.dataset.kind !== "multiplier" && f.due < cents(offer.dataset.min);
    });
    return f;
  }

  function renumber(body) {
    // Lines are named prefix-N-field; keep N in order so the server reads them in order.
    var prefix = body.dataset.lines;
    body.querySelectorAll("tr.line").forEach(function (row, index) {
      row.querySelectorAll("input, select").forEach(function (input) {
        var name = input.name.replace(new RegExp("^" + prefix + "-\\d+-"), prefix + "-" + index + "-");
        input.name = name;
        input.id = name;
      });
    });
  }

  function addLine(form, prefix) {
    var body = form.querySelector('tbody[data-lines="' + prefix + '"]');
    var last = body.querySelector("tr.line:last-child");
    var copy = last.cloneNode(true);
    copy.querySelectorAll("input").forEach(function (input) {
      input.value = "";
      input.removeAttribute("aria-invalid");
    });
    copy.querySelectorAll("select").forEach(function (select) {
      select.selectedIndex = 0;
    });
    copy.querySelectorAll(".error").forEach(function (error) {
      error.remove();
    });
    body.appendChild(copy);
    renumber(body);
    return copy;
  }

  // -- paying the rest ------------------------------------------------------------------------

  function pay(kind) {
    // The rest of the amount due on a tender line of `kind`: added to the line already of that
    // kind, else the first empty line (a new one when none is left). The card balance pays the
    // whole amount due, or what the balance holds when that is less.
    var form = bill();
    var button = form && form.querySelector('[data-pay="' + kind + '"]');
    if (!button) {
      return;
    }
    var f = update(form);
    if (!f.gross) {
      byId("amount").focus();
      return;
    }
    var rows = lines(form, "tender");
    var row = rows.filter(function (line) {
      return field(line, "kind").value === kind && cents(field(line, "amount").value);
    })[0] || rows.filter(function (line) {
      return !cents(field(line, "amount").value);
    })[0] || addLine(form, "tender");
    var amount = cents(field(row, "amount").value) + f.rest;
    if (button.id === "pay-balance") {
      var held = byId(kind === "stored_value" ? "balance-stored-value" : "balance-credit-left");
      var available = held ? parseInt(held.dataset.cents, 10) : amount;
      amount = Math.min(amount, isNaN(available) ? amount : available);
    }
    if (amount <= 0) {
      return focusNext(form);
    }
    field(row, "kind").value = kind;
    field(row, "amount").value = plain(amount);
    update(form);
    var pin = byId("pin");
    if (pin && !pin.value && (kind === "stored_value" || kind === "credit")) {
      pin.focus();
    } else {
      focusNext(form);
    }
  }

  function focusNext(form) {
    // After the amount: the tenders while something is left to pay, then the PIN when a tender
    // needs it, then Settle.
    var f = update(form);
    if (!f.gross) {
      return byId("amount").focus();
    }
    if (f.rest > 0) {
      var empty = lines(form, "tender").filter(function (row) {
        return !field(row, "amount").value;
      })[0];
      if (empty) {
        field(empty, "amount").value = plain(f.rest);
        update(form);
        field(empty, "amount").select();
        return field(empty, "amount").focus();
      }
    }
    var pin = byId("pin");
    var needsPin = lines(form, "tender").some(function (row) {
      var kind = field(row, "kind").value;
      return cents(field(row, "amount").value) && (kind === "stored_value" || kind === "credit");
    });
    if (pin && needsPin && !pin.value) {
      return pin.focus();
    }
    byId("settle").focus();
  }

  function clearBill(form) {
    form.querySelectorAll("input[type=text], input:not([type]), input[type=password]").forEach(function (input) {
      if (input.id !== "bill_no") {
        input.value = "";
      }
    });
    lines(form, "item").concat(lines(form, "tender")).forEach(function (row) {
      row.querySelectorAll("select").forEach(function (select) {
        select.selectedIndex = 0;
      });
    });
    update(form);
    byId("amount").focus();
  }

  // -- coupons: Alt+1..Alt+9 -----------------------------------------------------------------

  function offers() {
    return Array.prototype.slice.call(document.querySelectorAll("#offers li.offer"));
  }

  function couponPays(offer, due) {
    // What the coupon pays of the amount due, as the coupon tender checks it: its amount, its
    // percentage of the discounted bill rounded half up, an item up to its value; never more than due.
    if (offer.dataset.kind === "percent") {
      var parts = (offer.dataset.percent || "0").split(".");
      var den = Math.pow(10, (parts[1] || "").length) * 100;
      var num = parseInt(parts[0] + (parts[1] || ""), 10) || 0;
      return Math.min(due, Math.floor((2 * due * num + den) / (2 * den)));
    }
    return Math.min(due, cents(offer.dataset.value));
  }

  function applyOffer(number) {
    // A coupon on the bill: a tender line {coupon, its code, what it pays}, the other tenders cut to
    // what is left (the rest goes to the default tender); a multiplier waits for the settlement.
    var offer = offers()[number - 1];
    var form = bill();
    if (!offer || !form || offer.querySelector("button").disabled) {
      return;
    }
    var code = offer.dataset.code;
    if (offer.dataset.kind === "multiplier") {
      multiplier = multiplier === code ? null : code;
      offers().forEach(function (other) {
        other.querySelector("button").setAttribute("aria-pressed", String(other.dataset.code === multiplier));
      });
      return focusNext(form);
    }
    var f = update(form);
    if (!f.gross) {
      return byId("amount").focus();
    }
    var rows = lines(form, "tender");
    var row = rows.filter(function (line) {
      return field(line, "kind").value === "coupon" && field(line, "reference").value === code;
    })[0] || rows.filter(function (line) {
      return !cents(field(line, "amount").value);
    })[0] || addLine(form, "tender");
    var kind = field(row, "kind");
    kind.value = "coupon";
    if (kind.value !== "coupon") {
      return;  // the coupon tender is not taken at this outlet
    }
    field(row, "reference").value = code;
    field(row, "amount").value = plain(couponPays(offer, f.due));
    offer.querySelector("button").setAttribute("aria-pressed", "true");
    var over = -update(form).rest;
    rows.slice().reverse().forEach(function (line) {
      var amount = cents(field(line, "amount").value);
      if (over > 0 && line !== row && amount && field(line, "kind").value !== "coupon") {
        var cut = Math.min(amount, over);
        field(line, "amount").value = amount - cut ? plain(amount - cut) : "";
        over -= cut;
      }
    });
    focusNext(form);
  }

  function payByVoucher() {
    // Alt+0: the rest on a voucher tender line, the cursor in its reference for the voucher's code
    // (scanned or typed; a voucher worth less is refused beside the line, naming the amount).
    var form = bill();
    var f = form && update(form);
    if (!f || !f.gross) {
      return form && byId("amount").focus();
    }
    var rows = lines(form, "tender");
    var row = rows.filter(function (line) {
      return !cents(field(line, "amount").value);
    })[0] || addLine(form, "tender");
    var kind = field(row, "kind");
    kind.value = "voucher";
    if (kind.value !== "voucher" || f.rest <= 0) {
      kind.selectedIndex = 0;
      return;
    }
    field(row, "amount").value = plain(f.rest);
    update(form);
    field(row, "reference").focus();
  }

  function applyMultiplier(answer) {
    // Right after the settlement: the chosen multiplier on the posted bill, its extra points shown.
    var code = multiplier;
    var list = document.querySelector("#offers [data-offers]");
    multiplier = null;
    if (!code || !list) {
      return;
    }
    var body = new FormData();
    body.append("csrf_token", (document.querySelector("input[name=csrf_token]") || {}).value || "");
    body.append("outlet", (document.querySelector("#lookup input[name=outlet]") || {}).value || "");
    body.append("bill_no", answer.bill_no);
    var shown = byId("coupon-points");
    fetch(list.dataset.applyUrl.replace("CODE", encodeURIComponent(code)),
          { method: "POST", body: body, credentials: "same-origin",
            headers: { "X-Requested-With": "fetch", "Accept": "application/json" } })
      .then(function (response) {
        return response.json();
      })
      .then(function (result) {
        shown.textContent = result.applied ? result.message : code + ": " + result.message;
        shown.className = result.applied ? "ok" : "error";
        shown.hidden = false;
      })
      .catch(function () {
        shown.textContent = code + ": !";
        shown.className = "error";
        shown.hidden = false;
      });
  }

  // -- in place: the look-up, the settlement, printing ----------------------------------------

  function say(text, failed) {
    var status = byId("settle-status") || byId("thermal-print-status");
    if (status) {
      status.textContent = text;
      status.className = failed ? "error" : "ok";
    }
  }

  function swap(html, url) {
    // The new page's main part in place of this one's; the card field itself stays (other scripts
    // hold it), taking the new one's value and state.
    var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("cashier-main");
    var main = byId("cashier-main");
    if (!fresh || !main) {
      // Not the cashier's page (signed out, the session ended...): show that page for real.
      if (url) {
        location.href = url;
      } else {
        location.reload();
      }
      return;
    }
    var card = byId("card_no");
    var newCard = fresh.querySelector("#card_no");
    card.value = newCard.value;
    ["aria-invalid", "data-autofocus", "autofocus"].forEach(function (name) {
      if (newCard.hasAttribute(name)) {
        card.setAttribute(name, newCard.getAttribute(name));
      } else {
        card.removeAttribute(name);
      }
    });
    newCard.replaceWith(card);
    main.replaceWith(fresh);
    document.querySelectorAll("main > .flash").forEach(function (flash) {
      flash.remove();
    });
    if (url) {
      history.replaceState(null, "", url);
    }
    start();
  }

  function load(url) {
    return fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (response) {
        return response.text().then(function (html) {
          swap(html, url);
        });
      })
      .catch(function () {
        location.href = url;
      });
  }

  function lookUp(cardNo) {
    var lookup = byId("lookup");
    var card = byId("card_no");
    if (!lookup || !card) {
      return;
    }
    if (cardNo !== undefined) {
      card.value = cardNo;
    }
    multiplier = null;  // a new look-up: a new bill
    var query = new URLSearchParams(new FormData(lookup));
    query.forEach(function (value, key) {
      if (!value) {
        query.delete(key);
      }
    });
    return load(lookup.action + "?" + query.toString());
  }

  function newBill() {
    var outlet = document.querySelector("#lookup input[name=outlet]");
    settled = null;
    multiplier = null;
    byId("card_no").value = "";
    return load(byId("lookup").action + "?outlet=" + encodeURIComponent(outlet.value));
  }

  function settle() {
    var form = bill();
    if (!form || form.dataset.busy) {
      return;
    }
    form.dataset.busy = "1";
    say(form.dataset.settling || "...");
    fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin",
                         headers: { "X-Requested-With": "fetch", "Accept": "application/json, text/html" } })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (type.indexOf("application/json") === 0) {
          return response.json().then(showSettled);
        }
        // Refused: the page again with each error beside its field.
        return response.text().then(function (html) {
          swap(html, null);
          var wrong = document.querySelector('#bill input[aria-invalid="true"]');
          (wrong || byId("amount") || byId("card_no")).focus();
        });
      })
      .catch(function () {
        delete form.dataset.busy;
        say(form.dataset.failed || "!", true);
      });
  }

  function showSettled(answer) {
    var box = byId("bill-box");
    box.insertAdjacentHTML("afterend", answer.html);
    box.remove();
    applyMultiplier(answer);
    var offersBox = byId("offers");
    if (offersBox) {
      offersBox.hidden = true;
    }
    settled = answer;
    byId("next-bill").focus();
    if (answer.auto_print) {
      print();
    }
  }

  function print() {
    if (!settled) {
      return;
    }
    if (!settled.print_url) {
      window.open(settled.receipt_url, "_blank", "noopener");
      return;
    }
    var token = document.querySelector("input[name=csrf_token]");
    var body = new FormData();
    body.append("csrf_token", token ? token.value : "");
    var status = byId("thermal-print-status");
    fetch(settled.print_url, { method: "POST", body: body, credentials: "same-origin",
                               headers: { "X-Requested-With": "fetch", "Accept": "application/json" } })
      .then(function (response) {
        return response.json();
      })
      .then(function (answer) {
        status.textContent = answer.message;
        status.className = answer.printed ? "ok" : "error";
      })
      .catch(function () {
        status.textContent = "!";
        status.className = "error";
      });
  }

  var actions = {
    newBill: newBill,
    payBalance: function () {
      var button = byId("pay-balance");
      if (button) {
        pay(button.dataset.pay);
      }
    },
    payCash: function () {
      pay("cash");
    },
    payBankCard: function () {
      pay("bank_card");
    },
    deposit: function () {
      var amount = byId("deposit_amount");
      if (amount) {
        amount.scrollIntoView({ block: "center" });
        amount.focus();
      }
    },
    refund: function () {
      if (settled) {
        location.href = settled.settlement_url + "#refund";
      }
    },
    settle: function () {
      if (bill()) {
        settle();
      }
    },
    print: print
  };

  function onKey(event) {
    var digit = /^Digit([0-9])$/.exec(event.code || "");
    if (event.altKey && !event.ctrlKey && digit) {
      event.preventDefault();
      if (digit[1] === "0") {
        payByVoucher();
      } else {
        applyOffer(parseInt(digit[1], 10));
      }
      return;
    }
    var name = KEYS[event.key];
    if (name) {
      event.preventDefault();
      actions[name]();
      return;
    }
    var target = event.target;
    if (event.key === "Escape") {
      event.preventDefault();
      var form = bill();
      if (form && form.contains(target) && figures(form).gross) {
        clearBill(form);
      } else if (settled || byId("card") || byId("card_no").value) {
        newBill();
      }
      return;
    }
    if (event.key !== "Enter" || !bill() || !bill().contains(target) || target.tagName === "BUTTON") {
      return;
    }
    // Enter in the bill: the next field that matters, never an early submit.
    event.preventDefault();
    if (target.id === "bill_no") {
      byId("amount").focus();
    } else if (target.id === "pin") {
      settle();
    } else if (/^item-\d+-/.test(target.id)) {
      var next = target.closest("tr").nextElementSibling;
      (next ? next.querySelector("select") : byId("amount")).focus();
      update(bill());
    } else {
      focusNext(bill());
    }
  }

  function start() {
    // (Re)binds the parts a look-up or a settlement replaced.
    var form = bill();
    var lookup = byId("lookup");
    if (lookup && !lookup.dataset.bound) {
      lookup.dataset.bound = "1";
      lookup.addEventListener("submit", function (event) {
        event.preventDefault();
        lookUp();
      });
    }
    document.querySelectorAll(".pay-buttons[hidden], #bill [hidden].add-line, #bill [hidden].remove-line")
      .forEach(function (element) {
        element.hidden = false;
      });
    if (form) {
      form.addEventListener("click", function (event) {
        var button = event.target.closest("button");
        if (!button) {
          return;
        }
        if (button.dataset.pay) {
          pay(button.dataset.pay);
        } else if (button.dataset.addLine) {
          var copy = addLine(form, button.dataset.addLine);
          byId("item-lines").open = true;
          copy.querySelector("input, select").focus();
        } else if (button.classList.contains("remove-line")) {
          var row = button.closest("tr");
          var body = row.parentNode;
          if (body.querySelectorAll("tr.line").length > 1) {
            row.remove();
            renumber(body);
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
      form.addEventListener("change", function () {
        update(form);
      });
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        settle();
      });
      update(form);
    }
    offers().forEach(function (offer) {
      // A refused bill comes back without the page's state: the chosen multiplier is still chosen.
      if (offer.dataset.code === multiplier) {
        offer.querySelector("button").setAttribute("aria-pressed", "true");
      }
    });
    // The amount once a usable card is shown, else the card field, selected: the next swipe replaces it.
    var focus = document.querySelector("#cashier-main [data-autofocus]") || byId("card_no");
    focus.focus();
    focus.select();
  }

  document.addEventListener("click", function (event) {
    var offer = event.target.closest && event.target.closest("#offers button.apply-offer");
    if (offer) {
      applyOffer(offers().indexOf(offer.closest("li.offer")) + 1);
      return;
    }
    var button = event.target.closest && event.target.closest("#next-bill, #print-again");
    if (button) {
      actions[button.id === "next-bill" ? "newBill" : "print"]();
    }
  });

  window.lpsCashier = { lookUp: lookUp, newBill: newBill };

  document.addEventListener("DOMContentLoaded", function () {
    if (!byId("cashier-main")) {
      return;
    }
    document.addEventListener("keydown", onKey);
    start();
  });
})();
