// A waiting or running check's page (scanner/service/checkpage.py): fetch the page again every two seconds
// and swap in its new status, so it updates without reloading; when the check is done (the page holds the
// report instead of a status) load it. Without JavaScript the page reloads itself (a refresh in <noscript>).
(function () {
  "use strict";
  var status = document.getElementById("check-status");
  if (!status || !window.fetch || !window.DOMParser) {
    return;
  }
  function poll() {
    fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("check-status");
        if (!fresh) {
          window.location.reload();
          return;
        }
        if (fresh.innerHTML !== status.innerHTML) {
          status.replaceChildren.apply(status, Array.prototype.map.call(fresh.childNodes, function (node) {
            return document.importNode(node, true);
          }));
        }
        window.setTimeout(poll, 2000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 2000);
})();
