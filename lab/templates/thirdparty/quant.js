/* Mimics Quantcast Measure's quant.js (secure.quantserve.com/quant.js): sets the first-party cookie __qca
   (P0-<random>-<time in ms>, 13 months) on the highest domain of the page that accepts it. The real script
   also sends a pixel to pixel.quantserve.com; this one does not, so the cookie is the only thing it leaves. */
(function () {
  var value = 'P0-' + Math.floor(Math.random() * 2147483647) + '-' + Date.now();
  var labels = location.hostname.split('.');
  for (var i = labels.length - 2; i >= 0; i--) {
    var domain = labels.slice(i).join('.');
    document.cookie = '__qca=' + value + '; max-age=33696000; path=/; domain=' + domain;
    if (document.cookie.indexOf('__qca=' + value) !== -1) { return; }
  }
})();
