// "Copy link" buttons (issue 14, the care calendar link). Progressive enhancement: the link
// sits in a read-only input that can be selected and copied by hand; with this file each
// <button data-copy-target="ID" hidden> is shown and copies the input's value to the
// clipboard, telling the result in the element with data-copy-status="ID" (role="status").
(function () {
  "use strict";

  function say(id, text) {
    var status = document.querySelector('[data-copy-status="' + id + '"]');
    if (status) status.textContent = text;
  }

  function copy(button) {
    var id = button.getAttribute("data-copy-target");
    var input = document.getElementById(id);
    if (!input) return;
    function fallback() {
      input.focus();
      input.select();
      say(id, "The link is selected: copy it with your keyboard or menu.");
    }
    if (!navigator.clipboard || !window.isSecureContext) {
      fallback();
      return;
    }
    navigator.clipboard.writeText(input.value).then(function () {
      say(id, "Link copied.");
    }, fallback);
  }

  function enhance(root) {
    root.querySelectorAll("button[data-copy-target]").forEach(function (button) {
      if (button.dataset.copyReady) return;
      button.dataset.copyReady = "1";
      button.hidden = false;
      button.addEventListener("click", function () {
        copy(button);
      });
    });
  }

  function start() {
    enhance(document);
    document.body.addEventListener("htmx:afterSwap", function (event) {
      enhance(event.detail && event.detail.target ? event.detail.target : document);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
