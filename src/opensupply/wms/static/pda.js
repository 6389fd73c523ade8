// PDA scanning pages: scan + Enter, green/red banner with a beep, offline-tolerant resubmission.
// Contract (see opensupply/wms/pda.py): <form data-pda method="post" action="…"> is posted with fetch;
// the reply is JSON {ok, message, next?, html?, focus?}. Each submission carries a client_scan_id
// (crypto.randomUUID) that stays the same when it is resent, so the server records it once.
(function () {
  "use strict";
  var body = document.body;
  var QUEUE_KEY = "opensupply.pda.queue";
  var BANNER_KEY = "opensupply.pda.banner";
  var audio = null;

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "x" + Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  function tone(freq, start, dur) {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var osc = audio.createOscillator(), gain = audio.createGain();
      osc.type = "square"; osc.frequency.value = freq;
      gain.gain.value = 0.08;
      osc.connect(gain); gain.connect(audio.destination);
      osc.start(audio.currentTime + start); osc.stop(audio.currentTime + start + dur);
    } catch (e) { /* no audio: the banner still shows */ }
  }

  function beep(ok) {
    if (ok) { tone(1320, 0, 0.09); return; }
    tone(220, 0, 0.22); tone(180, 0.28, 0.3);
    if (navigator.vibrate) navigator.vibrate([120, 60, 120]);
  }

  function banner(ok, message, kind) {
    var el = document.getElementById("pda-banner");
    if (!el) return;
    el.className = "pda-banner " + (kind || (ok ? "ok" : "err"));
    el.textContent = message || "";
    el.dataset.state = ok ? "ok" : "err";
  }
  window.pdaBanner = banner;

  function queue() {
    try { return JSON.parse(localStorage.getItem(QUEUE_KEY) || "[]"); } catch (e) { return []; }
  }
  function saveQueue(q) {
    try { localStorage.setItem(QUEUE_KEY, JSON.stringify(q)); } catch (e) { /* private mode */ }
    var bar = document.getElementById("pda-offline");
    if (bar) { bar.hidden = q.length === 0; bar.textContent = (body.dataset.msgQueued || "") + "：" + q.length; }
  }

  function send(action, data) {
    return fetch(action, {
      method: "POST", credentials: "same-origin", body: new URLSearchParams(data),
      headers: {"X-CSRF-Token": body.dataset.csrf || "", "Accept": "application/json", "X-PDA": "1"}
    }).then(function (r) {
      return r.json().catch(function () { return {ok: false, message: body.dataset.msgError + " (" + r.status + ")"}; });
    });
  }

  function focusFirst(form, name) {
    var el = name ? form.querySelector('[name="' + name + '"]') : null;
    if (!el) {
      var inputs = form.querySelectorAll("input:not([type=hidden]):not([readonly]), select");
      for (var i = 0; i < inputs.length; i++) { if (!inputs[i].value || !inputs[i].hasAttribute("data-keep")) { el = inputs[i]; break; } }
    }
    if (el) { el.focus(); if (el.select) el.select(); }
  }

  function handle(form, res) {
    beep(!!res.ok);
    if (res.next) {
      try { sessionStorage.setItem(BANNER_KEY, JSON.stringify({ok: res.ok, message: res.message})); } catch (e) { /* ignore */ }
      window.location.href = res.next;
      return;
    }
    banner(!!res.ok, res.message, res.warning ? "warn" : null);
    if (res.html != null) {
      var target = document.querySelector(form.getAttribute("data-target") || "#pda-work");
      if (target) target.innerHTML = res.html;
    }
    if (res.ok) {
      form.querySelectorAll("input:not([type=hidden]):not([type=checkbox]):not([type=radio])").forEach(function (el) {
        if (!el.hasAttribute("data-keep")) el.value = el.defaultValue && el.hasAttribute("data-default") ? el.defaultValue : "";
      });
      focusFirst(form, res.focus);
    } else {
      var bad = res.field && form.querySelector('[name="' + res.field + '"]');
      if (bad) { bad.focus(); if (bad.select) bad.select(); } else focusFirst(form);
    }
    document.dispatchEvent(new CustomEvent("pda:result", {detail: {form: form, result: res}}));
  }

  function submit(form, submitter) {
    var data = {};
    new FormData(form).forEach(function (v, k) { data[k] = v; });
    if (submitter && submitter.name) data[submitter.name] = submitter.value;
    data.client_scan_id = uuid();
    var action = (submitter && submitter.getAttribute("formaction")) || form.getAttribute("action") || window.location.pathname;
    form.classList.add("busy");
    send(action, data).then(function (res) {
      form.classList.remove("busy");
      handle(form, res);
    }, function () {  // network down: keep it (same client_scan_id) and resend later
      form.classList.remove("busy");
      var q = queue(); q.push({action: action, data: data}); saveQueue(q);
      banner(false, body.dataset.msgOffline, "warn");
      beep(false);
    });
  }

  var flushing = false;
  function flush() {  // one resend at a time, oldest first; each keeps its client_scan_id
    var q = queue();
    if (flushing || !q.length || !navigator.onLine) return;
    flushing = true;
    var item = q[0];
    send(item.action, item.data).then(function (res) {
      var rest = queue().filter(function (x) { return x.data.client_scan_id !== item.data.client_scan_id; });
      saveQueue(rest);
      flushing = false;
      banner(!!res.ok, res.message);
      beep(!!res.ok);
      if (rest.length) flush();
    }, function () { flushing = false; /* still offline */ });
  }

  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.matches || !form.matches("form[data-pda]")) return;
    e.preventDefault();
    if (form.classList.contains("busy")) return;
    submit(form, e.submitter);
  });

  // A keyboard-wedge scanner types the code and Enter: move to the next field where asked.
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Enter") return;
    var el = e.target, next = el.getAttribute && el.getAttribute("data-next");
    if (!next || !el.form) return;
    var target = el.form.querySelector('[name="' + next + '"]');
    if (target && !target.disabled && target.type !== "hidden") {
      e.preventDefault();
      target.focus(); if (target.select) target.select();
    }
  });

  window.addEventListener("online", flush);
  window.setInterval(flush, 5000);
  document.addEventListener("DOMContentLoaded", function () {
    saveQueue(queue());
    try {
      var b = JSON.parse(sessionStorage.getItem(BANNER_KEY) || "null");
      if (b) { sessionStorage.removeItem(BANNER_KEY); banner(!!b.ok, b.message); }
    } catch (e) { /* ignore */ }
    var auto = document.querySelector("[autofocus]");
    if (auto) auto.focus();
    flush();
  });
})();
