/* Mimics Google's gtag.js (served as /gtag/js?id=G-...) and GTM (served as /gtm.js?id=GTM-...).
   gtag: sets _ga, _ga_<id> and _gid on the highest first-party domain that accepts them (the "auto" cookie
   domain) and sends a page_view to www.google-analytics.com/g/collect.
   gtm: sets the Google Ads conversion-linker cookie _gcl_au three seconds after it runs. */
(function () {
  var src = (document.currentScript && document.currentScript.src) || '';
  var id = decodeURIComponent((src.match(/[?&]id=([^&]+)/) || [])[1] || 'G-LAB');
  var now = Math.floor(Date.now() / 1000);
  var random = function () { return Math.floor(Math.random() * 2147483647); };

  function setCookie(name, value, maxAge) {
    var labels = location.hostname.split('.');
    for (var i = labels.length - 2; i >= 0; i--) {
      var domain = labels.slice(i).join('.');
      document.cookie = name + '=' + value + '; max-age=' + maxAge + '; path=/; domain=' + domain;
      if (document.cookie.indexOf(name + '=' + value) !== -1) { return; }
    }
  }

  if (src.indexOf('/gtm.js') !== -1) {
    setTimeout(function () { setCookie('_gcl_au', '1.1.' + random() + '.' + now, 7776000); }, 3000);
    return;
  }
  var clientId = random() + '.' + now;
  setCookie('_ga', 'GA1.1.' + clientId, 63072000);
  setCookie('_ga_' + id.replace(/^G-/, ''), 'GS1.1.' + now + '.1.0.' + now + '.0.0.0', 63072000);
  setCookie('_gid', 'GA1.1.' + random() + '.' + now, 86400);
  var collect = 'https://www.google-analytics.com/g/collect?v=2&tid=' + encodeURIComponent(id) + '&cid=' + clientId +
    '&en=page_view&dl=' + encodeURIComponent(location.href) + '&dt=' + encodeURIComponent(document.title);
  if (!(navigator.sendBeacon && navigator.sendBeacon(collect))) { new Image().src = collect; }
})();
