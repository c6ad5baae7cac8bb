// Progressive enhancement of the portal form: the server stays the judge of every rule.
// - shows/hides fields with data-visible-if (the same JSON Logic subset as server/domain/eforms/logic.py)
// - fills the address from the postal code without a round trip
// Without JavaScript the "表示を更新する" and "住所を検索" buttons do the same on the server.
(function () {
  "use strict";
  var form = document.getElementById("eform");
  if (!form) return;
  document.querySelectorAll(".js-hide").forEach(function (el) { el.hidden = true; });

  function truthy(v) { return Array.isArray(v) ? v.length > 0 : !!v && v !== "0"; }
  function num(v) { return parseFloat(v); }
  var ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
  // < > on two ISO dates compare the dates, otherwise numbers (as logic.py does).
  function ord(a, b) {
    return typeof a === "string" && typeof b === "string" && ISO_DATE.test(a) && ISO_DATE.test(b) ? [a, b] : [num(a), num(b)];
  }
  function ev(rule, data) {
    if (Array.isArray(rule)) return rule.map(function (r) { return ev(r, data); });
    if (rule === null || typeof rule !== "object") return rule;
    var op = Object.keys(rule)[0], a = rule[op];
    if (!Array.isArray(a)) a = [a];
    switch (op) {
      case "var": var v = data[ev(a[0], data)]; return v === undefined ? (a.length > 1 ? ev(a[1], data) : null) : v;
      case "==": case "===": return String(ev(a[0], data)) === String(ev(a[1], data));
      case "!=": case "!==": return String(ev(a[0], data)) !== String(ev(a[1], data));
      case "!": return !truthy(ev(a[0], data));
      case "!!": return truthy(ev(a[0], data));
      case "and": return a.every(function (x) { return truthy(ev(x, data)); });
      case "or": return a.some(function (x) { return truthy(ev(x, data)); });
      case "in": var h = ev(a[1], data), n = ev(a[0], data); return h != null && h.indexOf(n) >= 0;
      case ">": var g = ord(ev(a[0], data), ev(a[1], data)); return g[0] > g[1];
      case ">=": var ge = ord(ev(a[0], data), ev(a[1], data)); return ge[0] >= ge[1];
      case "<": var l = ord(ev(a[0], data), ev(a[1], data)); return l[0] < l[1];
      case "<=": var le = ord(ev(a[0], data), ev(a[1], data)); return le[0] <= le[1];
      default: return true; // unknown: leave it to the server
    }
  }
  function values() {
    var data = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.type === "file" || el.type === "hidden") return;
      if (el.type === "checkbox") { (data[el.name] = data[el.name] || []); if (el.checked) data[el.name].push(el.value); return; }
      if (el.type === "radio") { if (el.checked) data[el.name] = el.value; else if (!(el.name in data)) data[el.name] = null; return; }
      data[el.name] = el.value;
    });
    return data;
  }
  function apply() {
    // 修正 of one item only: the other fields are not on the page, so the server judges the rules.
    if (form.getAttribute("data-rules") === "off") return;
    var data = values();
    form.querySelectorAll("[data-visible-if]").forEach(function (el) {
      var show = true;
      try { show = truthy(ev(JSON.parse(el.getAttribute("data-visible-if")), data)); } catch (e) { show = true; }
      el.hidden = !show;
    });
  }
  form.addEventListener("change", apply);
  apply();

  form.querySelectorAll("[data-address-field]").forEach(function (input) {
    var target = document.getElementById(input.getAttribute("data-address-field"));
    if (!target) return;
    input.addEventListener("input", function () {
      var code = input.value.replace(/[^0-9０-９]/g, "");
      if (code.length !== 7 || target.value) return;
      fetch("/portal/api/postal/" + code).then(function (r) { return r.ok ? r.json() : null; }).then(function (j) {
        if (j && j.addresses && j.addresses.length === 1 && !target.value) target.value = j.addresses[0];
      }).catch(function () {});
    });
  });
  // 法人番号: "名称を検索" asks /portal/api/corporate/<number> and fills name and address in place;
  // on any failure the button falls back to the server round trip, which shows the message.
  form.querySelectorAll("[data-corporate-status]").forEach(function (input) {
    var button = input.parentNode.querySelector("button[value^='corporate:']");
    var status = document.getElementById(input.getAttribute("data-corporate-status"));
    if (!button || !status) return;
    button.addEventListener("click", function (event) {
      var number = input.value.replace(/[^0-9０-９]/g, "");
      if (number.length !== 13 || !window.fetch) return;
      event.preventDefault();
      fetch("/portal/api/corporate/" + number).then(function (r) {
        return r.json().then(function (j) { return { ok: r.ok, body: j }; });
      }).then(function (res) {
        status.hidden = false;
        status.textContent = "";
        var p = document.createElement("p");
        if (res.ok && res.body.corporation) {
          var c = res.body.corporation;
          var name = document.getElementById(input.getAttribute("data-corporate-name"));
          var address = document.getElementById(input.getAttribute("data-corporate-address"));
          if (name) name.value = c.name;
          if (address) address.value = c.address;
          p.textContent = c.name + "（" + c.address + "）を入れました。違う場合は直接直してください。";
          status.appendChild(p);
          if (res.body.notice) { var n = document.createElement("p"); n.className = "help"; n.textContent = res.body.notice; status.appendChild(n); }
          if (c.closed) { var w = document.createElement("p"); w.className = "error-text"; w.textContent = "この法人番号の法人は登記記録が閉鎖されています。番号を確認してください。"; status.appendChild(w); }
        } else {
          p.className = "error-text";
          p.textContent = (res.body && res.body.message) || "名称を調べられませんでした。直接入力してください。";
          status.appendChild(p);
        }
      }).catch(function () { if (form.requestSubmit) form.requestSubmit(button); });
    });
  });
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();
})();
