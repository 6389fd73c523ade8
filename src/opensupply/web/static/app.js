// Small behaviours shared by every page; everything works without it, it only makes pages nicer.
(function () {
  "use strict";

  // Confirm before destructive buttons: <form data-confirm="…">.
  document.addEventListener("submit", function (e) {
    var msg = e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) e.preventDefault();
  });

  // <select data-autosubmit> submits its form on change (company switch, list filters).
  document.addEventListener("change", function (e) {
    if (e.target.matches && e.target.matches("select[data-autosubmit]") && e.target.form) e.target.form.submit();
  });

  function setNav(open) {
    document.body.classList.toggle("nav-open", open);
    var toggle = document.querySelector(".nav-toggle");
    if (toggle) toggle.setAttribute("aria-expanded", open ? "true" : "false");
    var backdrop = document.querySelector(".nav-backdrop");
    if (backdrop) backdrop.hidden = !open;
  }

  document.addEventListener("click", function (e) {
    var t = e.target;
    if (t.closest(".nav-toggle")) { setNav(!document.body.classList.contains("nav-open")); return; }
    if (t.closest(".nav-backdrop")) { setNav(false); return; }
    if (t.closest(".flash-close")) { t.closest(".flash").remove(); return; }
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && document.body.classList.contains("nav-open")) setNav(false);
  });

  // Success messages fade after a while; errors stay until closed.
  window.setTimeout(function () {
    document.querySelectorAll(".flash-success").forEach(function (el) { el.classList.add("fade"); });
  }, 6000);

  // htmx: a domain error comes back as {"error": {"message": …}}; show it like a flash.
  document.addEventListener("htmx:responseError", function (e) {
    var text = "";
    try { text = JSON.parse(e.detail.xhr.responseText).error.message; } catch (err) { text = e.detail.xhr.statusText; }
    var box = document.getElementById("flashes");
    if (!box || !text) return;
    var div = document.createElement("div");
    div.className = "flash flash-error";
    div.setAttribute("role", "alert");
    div.textContent = text;
    box.appendChild(div);
  });
})();
