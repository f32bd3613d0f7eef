/* A generic Dutch cookie banner as many municipalities run it. Elements marked data-cookieconsent load
   only once the banner allows it; data-activate-on on the banner says after which choice
   ("accept", or "accept reject" for a banner that ignores a refusal); data-delay how many milliseconds after
   the page loads it appears. */
(function () {
  var banner = document.getElementById('cookiebanner');
  if (!banner) { return; }
  var activateOn = (banner.getAttribute('data-activate-on') || 'accept').split(' ');

  function activate() {
    document.querySelectorAll('[data-cookieconsent]').forEach(function (el) {
      if (el.tagName === 'SCRIPT') {
        var script = document.createElement('script');
        script.src = el.getAttribute('src');
        script.async = true;
        el.parentNode.replaceChild(script, el);
      } else if (el.tagName === 'DIV') {
        var frame = document.createElement('iframe');
        frame.src = el.getAttribute('data-cookieblock-src');
        frame.title = el.getAttribute('data-title');
        frame.width = el.getAttribute('data-width');
        frame.height = el.getAttribute('data-height');
        el.parentNode.replaceChild(frame, el);
      } else if (el.getAttribute('data-cookieblock-src')) {
        el.src = el.getAttribute('data-cookieblock-src');
        el.removeAttribute('data-cookieblock-src');
      }
    });
  }

  function choose(choice) {
    document.cookie = 'cookiebanner_keuze=' + choice + '; max-age=31536000; path=/; SameSite=Lax; Secure';
    banner.hidden = true;
    if (activateOn.indexOf(choice) !== -1) { activate(); }
  }

  var earlier = (document.cookie.match(/(?:^|; )cookiebanner_keuze=(\w+)/) || [])[1];
  if (earlier) {
    banner.hidden = true;
    if (activateOn.indexOf(earlier) !== -1) { activate(); }
    return;
  }
  var delay = parseInt(banner.getAttribute('data-delay') || '0', 10);
  if (delay > 0) {
    window.addEventListener('load', function () { setTimeout(function () { banner.hidden = false; }, delay); });
  } else {
    banner.hidden = false;
  }
  document.getElementById('cookiebanner-accepteren').addEventListener('click', function () { choose('accept'); });
  var reject = document.getElementById('cookiebanner-weigeren');
  reject.addEventListener('click', function () { choose('reject'); });
  var settings = document.getElementById('cookiebanner-instellingen');
  if (settings) {
    settings.addEventListener('click', function () {
      document.getElementById('cookiebanner-eerste-laag').hidden = true;
      document.getElementById('cookiebanner-tweede-laag').hidden = false;
    });
  }
})();
