/* Consent platforms the way they render their banners, for the lab: the element ids, classes, shadow root,
   iframe and APIs that autoconsent's rules for these platforms look for (scanner/probes/browser_js/
   autoconsent.rules.json and its OneTrust code rule). The script tag says which platform it plays
   (data-lab-platform) and whether it ignores a refusal (data-lab-variant="tracks_after_reject", like a
   misconfigured installation); elements marked data-cookieconsent load once the choice allows it.
   - onetrust: #onetrust-consent-sdk > #onetrust-banner-sdk with #onetrust-accept-btn-handler and
     #onetrust-reject-all-handler; the choice in the OptanonConsent cookie.
   - didomi: #didomi-host > #didomi-notice with #didomi-notice-agree-button and #didomi-notice-disagree-button,
     and the IAB TCF API (__tcfapi, CMP id 7) whose TC string says which purposes and vendors were allowed;
     the choice in the didomi_token and euconsent-v2 cookies.
   - usercentrics: #usercentrics-root with the banner in its open shadow root ([data-testid=uc-accept-all-button],
     [data-testid=uc-deny-all-button]) and the UC_UI API; the choice in localStorage (uc_settings).
   - frame: a banner in a cross-origin iframe from the lab consent host (#piano-cookie_banner with
     [data-acceptance-button] and [data-close-button]) that posts the choice to this page. */
(function () {
  var me = document.currentScript;
  var platform = me.getAttribute('data-lab-platform');
  var ignoresReject = me.getAttribute('data-lab-variant') === 'tracks_after_reject';
  var origin = new URL(me.src).origin;

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

  function cookie(name, value) {
    document.cookie = name + '=' + encodeURIComponent(value) + '; max-age=31536000; path=/; SameSite=Lax; Secure';
  }

  var earlier = (document.cookie.match(/(?:^|; )lab_cmp_choice=(\w+)/) || [])[1];
  var decided = null;
  function choose(choice) {
    decided = choice;
    cookie('lab_cmp_choice', choice);
    if (choice === 'accept' || ignoresReject) { activate(); }
  }

  var STYLE = 'position:fixed;left:0;right:0;bottom:0;z-index:2147483000;background:#fff;color:#141414;padding:1.5rem;' +
    'box-shadow:0 -4px 16px #777;font-family:Arial,sans-serif;';
  function button(attrs, text) {
    var b = document.createElement('button');
    b.type = 'button';
    Object.keys(attrs).forEach(function (k) { b.setAttribute(k, attrs[k]); });
    b.textContent = text;
    b.style.cssText = 'margin:0 1rem 0 0;padding:.6rem 1.2rem;font-size:1rem;border:2px solid #1032cf;cursor:pointer;';
    return b;
  }
  function text(tag, content) {
    var el = document.createElement(tag);
    el.textContent = content;
    return el;
  }
  var TITLE = 'Wij gebruiken cookies';
  var BODY = 'Met uw toestemming gebruiken wij en onze partners cookies voor statistieken en advertenties.';

  // --- TCF: a TC string (IAB TCF v2 core segment) for the choice ---
  function tcString(allowed) {
    var bits = '';
    function put(value, width) { bits += value.toString(2).padStart(width, '0'); }
    function letters(s) { put(s.charCodeAt(0) - 65, 6); put(s.charCodeAt(1) - 65, 6); }
    var now = Math.round(Date.now() / 100);
    put(2, 6); put(now, 36); put(now, 36); put(7, 12); put(1, 12); put(1, 6); letters('NL'); put(150, 12);
    put(4, 6); put(0, 1); put(0, 1); put(0, 12);
    put(allowed ? 0x3FF : 0, 10); put(0, 14);   // purposes 1-10 consented on accept, none on reject
    put(0, 24); put(0, 1); letters('NL');
    put(755, 16); put(1, 1); put(allowed ? 1 : 0, 12);  // vendor consents as ranges: Google (755) on accept
    if (allowed) { put(0, 1); put(755, 16); }
    put(0, 16); put(0, 1);                      // no legitimate interests
    put(0, 12);                                 // no publisher restrictions
    while (bits.length % 8) { bits += '0'; }
    var bytes = '';
    for (var i = 0; i < bits.length; i += 8) { bytes += String.fromCharCode(parseInt(bits.slice(i, i + 8), 2)); }
    return btoa(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }
  function tcfApi() {
    window.__tcfapi = function (command, version, callback) {
      var string = decided ? tcString(decided === 'accept') : '';
      var data = { cmpId: 7, cmpVersion: 1, gdprApplies: true, tcfPolicyVersion: 4, tcString: string,
                   eventStatus: decided ? 'useractioncomplete' : 'cmpuishown', cmpStatus: 'loaded' };
      if (command === 'ping') { callback({ gdprApplies: true, cmpLoaded: true, cmpStatus: 'loaded', cmpId: 7 }, true); }
      else if (command === 'getTCData' || command === 'addEventListener') { callback(data, true); }
      else { callback(null, false); }
    };
  }

  function onetrust() {
    var sdk = document.createElement('div');
    sdk.id = 'onetrust-consent-sdk';
    var banner = document.createElement('div');
    banner.id = 'onetrust-banner-sdk';
    banner.setAttribute('role', 'region');
    banner.setAttribute('aria-label', 'Cookiebanner');
    banner.style.cssText = STYLE;
    banner.appendChild(text('h2', TITLE));
    banner.appendChild(text('p', BODY));
    var accept = button({ id: 'onetrust-accept-btn-handler' }, 'Alle cookies accepteren');
    var reject = button({ id: 'onetrust-reject-all-handler' }, 'Alles weigeren');
    banner.appendChild(accept);
    banner.appendChild(reject);
    sdk.appendChild(banner);
    document.body.appendChild(sdk);
    function close(choice) {
      cookie('OptanonConsent', 'groups=C0001:1,C0002:' + (choice === 'accept' ? 1 : 0) + ',C0004:' + (choice === 'accept' ? 1 : 0));
      cookie('OptanonAlertBoxClosed', new Date().toISOString());
      banner.style.display = 'none';
      window.OnetrustActiveGroups = choice === 'accept' ? ',C0001,C0002,C0004,' : ',C0001,';
      choose(choice);
    }
    accept.addEventListener('click', function () { close('accept'); });
    reject.addEventListener('click', function () { close('reject'); });
  }

  function didomi() {
    tcfApi();
    var host = document.createElement('div');
    host.id = 'didomi-host';
    var notice = document.createElement('div');
    notice.id = 'didomi-notice';
    notice.className = 'didomi-notice-banner';
    notice.style.cssText = STYLE;
    notice.appendChild(text('h2', TITLE));
    notice.appendChild(text('p', BODY));
    var agree = button({ id: 'didomi-notice-agree-button' }, 'Akkoord en sluiten');
    var disagree = button({ id: 'didomi-notice-disagree-button' }, 'Weigeren');
    notice.appendChild(agree);
    notice.appendChild(disagree);
    host.appendChild(notice);
    document.body.appendChild(host);
    function close(choice) {
      choose(choice);
      cookie('didomi_token', btoa(JSON.stringify({ purposes: { enabled: choice === 'accept' ? ['analytics'] : [] } })));
      cookie('euconsent-v2', tcString(choice === 'accept'));
      host.removeChild(notice);
    }
    agree.addEventListener('click', function () { close('accept'); });
    disagree.addEventListener('click', function () { close('reject'); });
  }

  function usercentrics() {
    var root = document.createElement('div');
    root.id = 'usercentrics-root';
    root.style.cssText = 'display:block;position:fixed;left:0;right:0;bottom:0;z-index:2147483000;';
    var shadow = root.attachShadow({ mode: 'open' });
    var box = document.createElement('div');
    box.setAttribute('data-testid', 'uc-container');
    box.setAttribute('role', 'dialog');
    box.style.cssText = 'background:#fff;color:#141414;padding:1.5rem;box-shadow:0 -4px 16px #777;font-family:Arial,sans-serif;';
    box.appendChild(text('h2', TITLE));
    box.appendChild(text('p', BODY));
    var accept = button({ 'data-testid': 'uc-accept-all-button' }, 'Alles accepteren');
    var deny = button({ 'data-testid': 'uc-deny-all-button' }, 'Weigeren');
    box.appendChild(accept);
    box.appendChild(deny);
    shadow.appendChild(box);
    document.body.appendChild(root);
    function close(choice) {
      localStorage.setItem('uc_settings', JSON.stringify({ consent: choice }));
      root.style.display = 'none';
      choose(choice);
    }
    accept.addEventListener('click', function () { close('accept'); });
    deny.addEventListener('click', function () { close('reject'); });
    window.UC_UI = {
      isInitialized: function () { return true; },
      acceptAllConsents: function () { close('accept'); return Promise.resolve(); },
      denyAllConsents: function () { close('reject'); return Promise.resolve(); },
      closeCMP: function () { root.style.display = 'none'; return Promise.resolve(); },
      areAllConsentsAccepted: function () { return decided === 'accept'; },
    };
  }

  function frame() {
    var frameEl = document.createElement('iframe');
    frameEl.src = origin + '/frame.html';
    frameEl.title = 'Cookiekeuze';
    frameEl.style.cssText = 'position:fixed;left:0;right:0;bottom:0;width:100%;height:220px;border:0;z-index:2147483000;' +
      'background:#fff;box-shadow:0 -4px 16px #777;';
    document.body.appendChild(frameEl);
    window.addEventListener('message', function (event) {
      if (event.origin !== origin || ['accept', 'reject'].indexOf(event.data) === -1) { return; }
      frameEl.remove();
      choose(event.data);
    });
  }

  if (earlier) {
    decided = earlier;
    if (platform === 'didomi') { tcfApi(); }
    if (earlier === 'accept' || ignoresReject) { activate(); }
    return;
  }
  var show = { onetrust: onetrust, didomi: didomi, usercentrics: usercentrics, frame: frame }[platform];
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', show);
  } else {
    show();
  }
})();
