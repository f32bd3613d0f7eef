/* Mimics Cookiebot's uc.js: builds #CybotCookiebotDialog with Cookiebot's element ids, stores the choice in
   the first-party CookieConsent cookie and then runs the elements marked data-cookieconsent.
   data-lab-variant="tracks_after_reject" on the script tag makes it run them after a refusal too, like a
   misconfigured installation. */
(function () {
  var me = document.currentScript;
  var ignoresReject = me && me.getAttribute('data-lab-variant') === 'tracks_after_reject';

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

  function store(allowed) {
    var value = "{stamp:'" + Math.random().toString(36).slice(2) + "',necessary:true,preferences:" + allowed +
      ",statistics:" + allowed + ",marketing:" + allowed + ",method:'explicit',ver:1,utc:" + Date.now() + "}";
    document.cookie = 'CookieConsent=' + encodeURIComponent(value) + '; max-age=31536000; path=/; SameSite=Lax; Secure';
  }

  var earlier = (document.cookie.match(/(?:^|; )CookieConsent=([^;]*)/) || [])[1];
  if (earlier) {
    if (decodeURIComponent(earlier).indexOf('marketing:true') !== -1 || ignoresReject) { activate(); }
    return;
  }

  function button(id, text, primary) {
    var b = document.createElement('button');
    b.type = 'button';
    b.id = id;
    b.className = 'CybotCookiebotDialogBodyButton';
    b.textContent = text;
    b.style.cssText = 'margin:0 1rem 0 0;padding:.6rem 1.2rem;font-size:1rem;border:2px solid #1032cf;cursor:pointer;' +
      (primary ? 'background:#1032cf;color:#ffffff;' : 'background:#ffffff;color:#1032cf;');
    return b;
  }

  var dialog = document.createElement('div');
  dialog.id = 'CybotCookiebotDialog';
  dialog.setAttribute('name', 'CybotCookiebotDialog');
  dialog.setAttribute('role', 'dialog');
  dialog.setAttribute('aria-modal', 'true');
  dialog.setAttribute('aria-labelledby', 'CybotCookiebotDialogBodyContentTitle');
  dialog.className = 'CybotCookiebotDialogActive';
  dialog.style.cssText = 'position:fixed;left:0;right:0;bottom:0;z-index:2147483631;background:#ffffff;color:#141414;' +
    'padding:1.5rem;box-shadow:0 -4px 16px #777777;font-family:Arial,sans-serif;';
  var title = document.createElement('h2');
  title.id = 'CybotCookiebotDialogBodyContentTitle';
  title.textContent = 'Deze website gebruikt cookies';
  var text = document.createElement('p');
  text.id = 'CybotCookiebotDialogBodyContentText';
  text.textContent = 'We gebruiken cookies om content te personaliseren, voor social media-functies en om ons ' +
    'websiteverkeer te analyseren. Ook delen we informatie over uw gebruik van onze site met onze partners.';
  var buttons = document.createElement('div');
  buttons.id = 'CybotCookiebotDialogBodyButtons';
  var decline = button('CybotCookiebotDialogBodyButtonDecline', 'Weigeren', false);
  var allow = button('CybotCookiebotDialogBodyLevelButtonLevelOptinAllowAll', 'Alle cookies toestaan', true);
  buttons.appendChild(decline);
  buttons.appendChild(allow);
  dialog.appendChild(title);
  dialog.appendChild(text);
  dialog.appendChild(buttons);

  function close(allowed) {
    store(allowed);
    dialog.parentNode.removeChild(dialog);
    if (allowed || ignoresReject) { activate(); }
  }
  decline.addEventListener('click', function () { close(false); });
  allow.addEventListener('click', function () { close(true); });

  function show() { document.body.appendChild(dialog); }
  if (document.body) { show(); } else { document.addEventListener('DOMContentLoaded', show); }
})();
