// A stand-in for Stripe.js (https://js.stripe.com/v3/), which cannot be loaded on the machines
// that run the browser tests. The tests route Stripe's script address to this file. It
// implements only the documented calls Settle makes — Stripe(key), stripe.elements(),
// elements.create('card'), element.mount(domElement), element.on('change', handler) and
// stripe.confirmCardSetup(clientSecret, {payment_method: {card, billing_details}}) — and it
// talks to the API the tests run (the description-checking mock at __STRIPE_API_BASE__) with
// the publishable key, as Stripe.js talks to api.stripe.com: a PaymentMethod made from the
// card, then the SetupIntent confirmed with it. The card field is drawn in the page rather
// than in Stripe's frame, so the tests can type into it.
(function () {
  "use strict";
  var API = "__STRIPE_API_BASE__";

  function form(pairs) {
    return pairs
      .map(function (p) { return encodeURIComponent(p[0]) + "=" + encodeURIComponent(p[1]); })
      .join("&");
  }

  function post(key, path, pairs) {
    return fetch(API + path, {
      method: "POST",
      headers: { Authorization: "Bearer " + key, "Content-Type": "application/x-www-form-urlencoded" },
      body: form(pairs),
    }).then(function (r) {
      return r.json().then(function (body) { return { ok: r.ok, body: body }; });
    });
  }

  function CardElement() {
    this.handlers = [];
    this.inputs = {};
  }
  CardElement.prototype.mount = function (target) {
    var host = typeof target === "string" ? document.querySelector(target) : target;
    var self = this;
    [["number", "Card number", "1234 1234 1234 1234", "cc-number"],
     ["expiry", "Expiration date MM / YY", "MM / YY", "cc-exp"],
     ["cvc", "CVC", "CVC", "cc-csc"],
     ["postal", "ZIP", "ZIP", "postal-code"]].forEach(function (f) {
      var input = document.createElement("input");
      input.setAttribute("aria-label", f[1]);
      input.setAttribute("placeholder", f[2]);
      input.setAttribute("autocomplete", f[3]);
      input.setAttribute("inputmode", f[0] === "postal" ? "text" : "numeric");
      input.className = "stripe-stand-in-" + f[0];
      input.style.cssText = "border:0;outline:0;font:inherit;background:transparent;width:" +
        (f[0] === "number" ? "46%" : "17%");
      input.addEventListener("focus", function () { host.classList.add("StripeElement--focus"); });
      input.addEventListener("blur", function () { host.classList.remove("StripeElement--focus"); });
      input.addEventListener("input", function () { self.changed(); });
      host.appendChild(input);
      self.inputs[f[0]] = input;
    });
    host.classList.add("StripeElement");
  };
  CardElement.prototype.on = function (event, handler) {
    if (event === "change") this.handlers.push(handler);
  };
  CardElement.prototype.digits = function () { return this.inputs.number.value.replace(/\D/g, ""); };
  CardElement.prototype.changed = function () {
    var d = this.digits();
    var error = d.length > 0 && d.length < 15 ? { type: "validation_error", code: "incomplete_number",
      message: "Your card number is incomplete." } : undefined;
    this.handlers.forEach(function (h) { h({ elementType: "card", empty: d.length === 0, complete: !error, error: error }); });
  };

  function Stripe(key) {
    if (!(this instanceof Stripe)) return new Stripe(key);
    this.key = key;
  }
  Stripe.prototype.elements = function () {
    return { create: function (kind) { if (kind !== "card") throw new Error("only the card element"); return new CardElement(); } };
  };
  Stripe.prototype.confirmCardSetup = function (clientSecret, data) {
    var key = this.key;
    var card = data.payment_method.card;
    var name = (data.payment_method.billing_details || {}).name || "";
    var exp = card.inputs.expiry.value.replace(/\D/g, "");
    var intent = clientSecret.split("_secret_")[0];
    return post(key, "/v1/payment_methods", [
      ["type", "card"],
      ["card[number]", card.digits()],
      ["card[exp_month]", String(parseInt(exp.slice(0, 2), 10) || 0)],
      ["card[exp_year]", "20" + exp.slice(2, 4)],
      ["card[cvc]", card.inputs.cvc.value],
      ["billing_details[name]", name],
      ["billing_details[address][postal_code]", card.inputs.postal.value],
    ]).then(function (pm) {
      if (!pm.ok) return { error: pm.body.error };
      return post(key, "/v1/setup_intents/" + intent + "/confirm", [
        ["client_secret", clientSecret],
        ["payment_method", pm.body.id],
      ]).then(function (si) {
        return si.ok ? { setupIntent: si.body } : { error: si.body.error };
      });
    });
  };
  window.Stripe = Stripe;
})();
