// Installed before any page script: reports every document.cookie write (and cookieStore.set) with the
// stack of the script that made it, so the probe can tell which script set a cookie, and when.
(() => {
  const report = (value) => {
    try {
      const binding = window.__govscanCookieSet;
      if (typeof binding === "function") binding(String(value).slice(0, 400), String(new Error().stack || "").slice(0, 1500));
    } catch (e) { /* a page may replace window properties; never break it */ }
  };
  const desc = Object.getOwnPropertyDescriptor(Document.prototype, "cookie");
  if (desc && desc.set) {
    Object.defineProperty(Document.prototype, "cookie", {
      configurable: true,
      enumerable: desc.enumerable,
      get() { return desc.get.call(this); },
      set(value) { report(value); return desc.set.call(this, value); },
    });
  }
  if (window.CookieStore && CookieStore.prototype.set) {
    const set = CookieStore.prototype.set;
    CookieStore.prototype.set = function (name, value) {
      report(typeof name === "object" ? `${name.name}=${name.value}` : `${name}=${value}`);
      return set.apply(this, arguments);
    };
  }
})();
