// Small progressive enhancements; the site works without this file.
// A dashboard panel whose request fails (network error or a 5xx) shows an error inside itself
// instead of staying on "Loading" forever.
document.addEventListener("DOMContentLoaded", function () {
  function showPanelError(event) {
    var target = event.detail && event.detail.target;
    if (!target || !target.classList || !target.classList.contains("panel")) return;
    var title = target.getAttribute("data-panel-title") || "This panel";
    target.setAttribute("aria-busy", "false");
    target.replaceChildren();
    var heading = document.createElement("h2");
    heading.textContent = title;
    var message = document.createElement("p");
    message.className = "panel-error";
    message.textContent = "This panel could not be loaded just now. The rest of the page still works; try reloading in a minute.";
    target.append(heading, message);
  }
  document.body.addEventListener("htmx:responseError", showPanelError);
  document.body.addEventListener("htmx:sendError", showPanelError);
  // With DEBUG on, django-htmx's debug script (listening on document) replaces the whole page
  // with any 400 answer to an htmx request, taking it for Django's error page. Ours are forms
  // with their messages or error fragments, which base.html's responseHandling swaps in place,
  // so they do not reach that script; a whole error page still does.
  document.body.addEventListener("htmx:beforeOnLoad", function (event) {
    var xhr = event.detail && event.detail.xhr;
    if (xhr && xhr.status === 400 && !/^\s*<(!doctype|html)/i.test(xhr.responseText || "")) event.stopPropagation();
  });
  document.body.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (target && target.classList && target.classList.contains("panel")) target.setAttribute("aria-busy", "false");
  });
});
