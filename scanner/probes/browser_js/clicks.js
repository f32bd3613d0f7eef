// Reports the clicks that reach this frame (the heuristics' or autoconsent's rule steps) to the probe through the
// binding __govscanClick, each with the clicked element's text and a CSS selector for it (" >>> " where the path
// enters an open shadow root), so the record can say which buttons a consent choice took, even those in a frame
// the click removes. Installed once per frame.
() => {
  if (window.__govscanClicks) return;
  window.__govscanClicks = true;
  const part = (el) => {
    if (el.id) return `${el.localName}#${CSS.escape(el.id)}`;
    const classes = Array.from(el.classList).slice(0, 2).map((c) => "." + CSS.escape(c)).join("");
    return el.localName + classes;
  };
  const selector = (el) => {
    const parts = [];
    for (let e = el, depth = 0; e && depth < 6; depth++) {
      parts.unshift(part(e));
      if (e.id) break;
      if (e.parentElement) { e = e.parentElement; continue; }
      const root = e.getRootNode();
      if (root && root.host) { parts.unshift(">>>"); e = root.host; } else break;
    }
    return parts.join(" ").slice(0, 300);
  };
  document.addEventListener("click", (event) => {
    const el = event.composedPath().find((n) => n.nodeType === 1);
    if (!el || typeof window.__govscanClick !== "function") return;
    const text = (el.innerText || el.value || el.getAttribute("aria-label") || el.textContent || "")
      .replace(/\s+/g, " ").trim().slice(0, 80);
    window.__govscanClick({ text, selector: selector(el) });
  }, true);
}
