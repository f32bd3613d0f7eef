// The IAB TCF API of this frame, when the page has one: getTCData's CMP id and version and TC string, within
// two seconds (a CMP that never calls back is "no answer").
() => new Promise((resolve) => {
  if (typeof window.__tcfapi !== "function") { resolve(null); return; }
  const timer = setTimeout(() => resolve({ error: "no answer from __tcfapi within 2s" }), 2000);
  try {
    window.__tcfapi("getTCData", 2, (data, success) => {
      clearTimeout(timer);
      if (!success || !data) { resolve({ error: "getTCData failed" }); return; }
      resolve({ cmpId: data.cmpId, cmpVersion: data.cmpVersion, tcString: data.tcString,
                gdprApplies: data.gdprApplies, eventStatus: data.eventStatus });
    });
  } catch (e) {
    clearTimeout(timer);
    resolve({ error: String(e).slice(0, 200) });
  }
})
