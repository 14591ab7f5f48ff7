// Photos open full size in a <dialog> (issue 12). Progressive enhancement: every photo is a
// plain <a href="full.jpg"> inside an element marked data-lightbox, which works without this
// file. With it, a click opens the photo in a modal dialog: Escape closes it (the dialog's own
// cancel), the left and right arrow keys move between the photos of the same group, Tab stays
// inside the dialog, and focus goes back to the link that opened it.
(function () {
  "use strict";
  var dialog = null;
  var image = null;
  var counter = null;
  var links = [];
  var index = 0;
  var opener = null;

  function button(label, className, text) {
    var element = document.createElement("button");
    element.type = "button";
    element.className = "lightbox-button " + className;
    element.setAttribute("aria-label", label);
    element.textContent = text;
    return element;
  }

  function build() {
    dialog = document.createElement("dialog");
    dialog.className = "lightbox";
    dialog.setAttribute("aria-label", "Photo viewer");
    var figure = document.createElement("figure");
    image = document.createElement("img");
    image.className = "lightbox-image";
    counter = document.createElement("figcaption");
    counter.className = "lightbox-counter";
    counter.setAttribute("aria-live", "polite");
    figure.append(image, counter);
    var previous = button("Previous photo", "lightbox-previous", "‹");
    var next = button("Next photo", "lightbox-next", "›");
    var close = button("Close", "lightbox-close", "×");
    previous.addEventListener("click", function () { show(index - 1); });
    next.addEventListener("click", function () { show(index + 1); });
    close.addEventListener("click", function () { dialog.close(); });
    dialog.append(close, figure, previous, next);
    dialog.addEventListener("keydown", onKeydown);
    dialog.addEventListener("close", function () {
      image.removeAttribute("src");
      if (opener && document.contains(opener)) opener.focus();
      opener = null;
    });
    // A click on the backdrop (the dialog element itself, outside its content) closes it.
    dialog.addEventListener("click", function (event) {
      if (event.target === dialog) dialog.close();
    });
    document.body.append(dialog);
  }

  function show(position) {
    if (!links.length) return;
    index = (position + links.length) % links.length;
    var link = links[index];
    var thumb = link.querySelector("img");
    image.src = link.href;
    image.alt = thumb ? thumb.alt : "";
    counter.textContent = "Photo " + (index + 1) + " of " + links.length;
    var single = links.length < 2;
    dialog.querySelector(".lightbox-previous").hidden = single;
    dialog.querySelector(".lightbox-next").hidden = single;
  }

  function focusable() {
    return Array.prototype.filter.call(dialog.querySelectorAll("button"), function (element) {
      return !element.hidden;
    });
  }

  function onKeydown(event) {
    if (event.key === "ArrowRight") {
      event.preventDefault();
      show(index + 1);
    } else if (event.key === "ArrowLeft") {
      event.preventDefault();
      show(index - 1);
    } else if (event.key === "Tab") {
      // The modal dialog makes the page inert; this keeps Tab from leaving for the browser's
      // own controls as well.
      var items = focusable();
      var first = items[0];
      var last = items[items.length - 1];
      if (event.shiftKey && document.activeElement === first) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && document.activeElement === last) {
        event.preventDefault();
        first.focus();
      }
    }
  }

  document.addEventListener("click", function (event) {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
      return;
    }
    var link = event.target.closest ? event.target.closest("[data-lightbox] a.lightbox-link") : null;
    if (!link || typeof HTMLDialogElement === "undefined") return;
    event.preventDefault();
    if (!dialog) build();
    var group = link.closest("[data-lightbox]");
    links = Array.prototype.slice.call(group.querySelectorAll("a.lightbox-link"));
    opener = link;
    show(links.indexOf(link));
    dialog.showModal();
    dialog.querySelector(".lightbox-close").focus();
  });
})();
