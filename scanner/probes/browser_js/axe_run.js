// Runs the injected axe-core in this frame only (every frame gets its own run) and keeps, per rule, what
// the report needs: impact, node count, a few selectors and the WCAG tags.
async (tags) => {
  const result = await axe.run(document, {
    runOnly: { type: "tag", values: tags }, resultTypes: ["violations", "incomplete"], iframes: false,
  });
  const rules = (list) => list.map((r) => ({
    id: r.id, impact: r.impact, help: r.help, help_url: r.helpUrl, tags: r.tags, nodes: r.nodes.length,
    selectors: r.nodes.slice(0, 3).map((n) => n.target.join(" ")),
  }));
  return { version: axe.version, url: location.href, violations: rules(result.violations),
           incomplete: rules(result.incomplete) };
}
