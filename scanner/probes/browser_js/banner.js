// Finds a cookie banner in this frame, in the document and in every open shadow root: first the known consent
// platforms by their markup, then generic buttons by their Dutch or English text inside an element that talks
// about cookies. Visible buttons are marked with data-govscan-btn so the probe can click them (Playwright's CSS
// locators pierce open shadow roots); the banner with data-govscan-banner. The fallback for banners no
// autoconsent rule knows (scanner/probes/consent.py).
() => {
  const PLATFORMS = [
    { name: "cookiebot", box: "#CybotCookiebotDialog",
      reject: "#CybotCookiebotDialogBodyButtonDecline",
      accept: "#CybotCookiebotDialogBodyLevelButtonLevelOptinAllowAll, #CybotCookiebotDialogBodyButtonAccept",
      settings: "#CybotCookiebotDialogBodyLevelButtonCustomize, #CybotCookiebotDialogBodyButtonDetails",
      save: "#CybotCookiebotDialogBodyLevelButtonLevelOptinAllowallSelection" },
    { name: "onetrust", box: "#onetrust-banner-sdk, #onetrust-pc-sdk",
      reject: "#onetrust-reject-all-handler, .ot-pc-refuse-all-handler",
      accept: "#onetrust-accept-btn-handler, #accept-recommended-btn-handler",
      settings: "#onetrust-pc-btn-handler", save: ".save-preference-btn-handler" },
    { name: "cookiefirst", box: ".cookiefirst-root, [data-cookiefirst-widget]",
      reject: "[data-cookiefirst-action=reject]", accept: "[data-cookiefirst-action=accept]",
      settings: "[data-cookiefirst-action=adjust]", save: "[data-cookiefirst-action=save]" },
    { name: "complianz", box: "#cmplz-cookiebanner-container, .cmplz-cookiebanner",
      reject: ".cmplz-deny", accept: ".cmplz-accept", settings: ".cmplz-view-preferences",
      save: ".cmplz-save-preferences" },
    { name: "cookie_information", box: "#coiOverlay, #cookie-information-template-wrapper, #coi-banner-wrapper",
      reject: "#declineButton, .coi-banner__decline, [onclick*=declineAllCategories]",
      accept: "#updateButton, .coi-banner__accept, [onclick*=submitAllCategories]",
      settings: "#coiBannerSettings, .coi-banner__settings, [onclick*=showDetails]",
      save: "[onclick*=submitConsent]" },
    { name: "cookieconsent", box: "#cc-main, #cc--main",
      reject: "[data-role=necessary], #c-s-bn[data-role=necessary], #s-rall-bn",
      accept: "[data-role=all], #c-p-bn, #s-all-bn", settings: "[data-role=show], [data-cc=show-preferencesModal]",
      save: "[data-role=save], #s-sv-bn" },
    { name: "osano_cookieconsent", box: ".cc-window", reject: ".cc-deny", accept: ".cc-allow, .cc-dismiss",
      settings: ".cc-settings", save: "" },
  ];
  const TEXTS = [
    ["reject", /^(alle(s)? |cookies )*(weiger|afwijz|reject|decline|deny|refuse)|weigeren|afwijzen|alleen (strikt |de )?(noodzakelijke|functionele|essenti[eë]le)|niet akkoord|nee,? (bedankt|liever niet)|only (strictly )?(necessary|essential)|(necessary|essential) (cookies )?only|reject all|decline all|use necessary/],
    ["accept", /accepte|akkoord|toestaan|ik ga akkoord|^ja\b|accept|allow|agree|^ok(é|ay)?$|^prima$/],
    ["settings", /instellingen|voorkeuren|aanpassen|zelf kiezen|meer opties|settings|preferences|customi[sz]e|manage|details/],
    ["save", /opslaan|bewaar|bevestig|save|confirm/],
  ];
  const MAX_ROOTS = 50;
  const roots = [document];
  for (let i = 0; i < roots.length && roots.length < MAX_ROOTS; i++) {
    for (const el of roots[i].querySelectorAll("*")) {
      if (el.shadowRoot && roots.length < MAX_ROOTS) roots.push(el.shadowRoot);
    }
  }
  const queryAll = (selector) => roots.flatMap((root) => Array.from(root.querySelectorAll(selector)));
  // the parent element, crossing out of a shadow root to its host
  const up = (el) => el.parentElement || (el.getRootNode && el.getRootNode().host) || null;
  const norm = (s) => (s || "").toLowerCase().replace(/\s+/g, " ").replace(/[!.,:;"'“”]+/g, "").trim();
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    if (r.width < 2 || r.height < 2) return false;
    for (let e = el; e && e.nodeType === 1; e = up(e)) {
      const s = getComputedStyle(e);
      if (s.display === "none" || s.visibility === "hidden" || s.opacity === "0") return false;
    }
    return true;
  };
  const label = (el) => norm(el.innerText || el.value || el.getAttribute("aria-label") || el.textContent);
  let counter = window.__govscanBtn || 0;
  const buttons = [];
  const seen = new Set();
  const add = (el, role) => {
    if (seen.has(el) || !visible(el)) return;
    seen.add(el);
    let id = el.getAttribute("data-govscan-btn");
    if (!id) { id = String(++counter); el.setAttribute("data-govscan-btn", id); }
    buttons.push({ id, role, text: label(el).slice(0, 80) });
  };
  let platform = null, box = null;
  for (const p of PLATFORMS) {
    const found = queryAll(p.box).filter(visible);
    if (!found.length) continue;
    platform = p.name; box = found[0];
    for (const role of ["reject", "accept", "settings", "save"]) {
      if (p[role]) for (const el of queryAll(p[role])) add(el, role);
    }
    break;
  }
  const CLICKABLE = "button, a, [role=button], input[type=button], input[type=submit]";
  const searched = box ? [box, ...roots.filter((r) => r.host && (r.host === box || box.contains(r.host)))] : roots;
  for (const root of searched) {
    for (const el of root.querySelectorAll(CLICKABLE)) {
      const text = label(el);
      if (!text || text.length > 60) continue;
      const match = TEXTS.find(([, re]) => re.test(text));
      if (!match) continue;
      let container = box;
      if (!container) {
        for (let e = up(el), depth = 0; e && depth < 8; e = up(e), depth++) {
          const t = norm(e.innerText);
          if (t.length > 4000) break;
          if (/cookie/.test(t)) { container = e; break; }
        }
        if (!container) continue;
        box = box || container;
      }
      add(el, match[0]);
    }
  }
  window.__govscanBtn = counter;
  if (!buttons.length) return null;
  if (box) box.setAttribute("data-govscan-banner", "1");
  return { platform: platform || "generic", buttons, text: box ? norm(box.innerText).slice(0, 600) : "" };
}
