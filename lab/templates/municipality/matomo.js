/* Mimics Matomo's matomo.js where a municipality runs Matomo itself: served from the site's own host, it
   sets the visitor id _pk_id.<site id>.<hash> (13 months) and the session cookie _pk_ses.<site id>.<hash>
   (30 minutes) on that host, as Matomo does by default, and sends the page view to the site's own
   tracking endpoint. */
(function () {
  var suffix = '$suffix';
  var now = Math.floor(Date.now() / 1000);
  var visitor = '';
  for (var i = 0; i < 16; i++) { visitor += Math.floor(Math.random() * 16).toString(16); }
  document.cookie = '_pk_id.' + suffix + '=' + visitor + '.' + now + '.; max-age=33955200; path=/; SameSite=Lax';
  document.cookie = '_pk_ses.' + suffix + '=1; max-age=1800; path=/; SameSite=Lax';
  var hit = '$endpoint?idsite=1&rec=1&_id=' + visitor + '&url=' + encodeURIComponent(location.href) +
    '&action_name=' + encodeURIComponent(document.title);
  if (!(navigator.sendBeacon && navigator.sendBeacon(hit))) { new Image().src = hit; }
})();
