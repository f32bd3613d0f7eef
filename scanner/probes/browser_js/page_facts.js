// Facts about the document of one frame: its links (with whether they sit in the footer and the images
// they hold), images whose source names a register label, and the keys of its localStorage.
() => {
  const inFooter = (el) => !!el.closest("footer, [role=contentinfo], #footer, .footer, [class*=footer], [id*=footer]");
  const links = [];
  for (const a of document.querySelectorAll("a[href]")) {
    if (links.length >= 800) break;
    links.push({
      href: a.href,
      text: (a.innerText || a.textContent || a.getAttribute("aria-label") || "").trim().replace(/\s+/g, " ").slice(0, 160),
      footer: inFooter(a),
      images: Array.from(a.querySelectorAll("img")).map((img) => img.src).slice(0, 3),
    });
  }
  const labels = Array.from(document.querySelectorAll("img[src*='/files/verklaring/label/']")).map((img) => ({
    src: img.src, linked: !!img.closest("a[href]"),
  }));
  let storage = [];
  try { storage = Object.keys(window.localStorage); } catch (e) { storage = null; }
  return { url: location.href, title: document.title, links, labels, local_storage: storage };
}
