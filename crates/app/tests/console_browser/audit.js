// Accessibility basics of the page shown; returns a list of problems (empty when none).
const problems = [];
const describe = (el) => {
  const id = el.id ? `#${el.id}` : '';
  const name = el.getAttribute('name') ? `[name=${el.getAttribute('name')}]` : '';
  return `<${el.tagName.toLowerCase()}${id}${name}>`;
};
const ariaName = (el) => {
  const label = (el.getAttribute('aria-label') || '').trim();
  if (label) return label;
  const ids = (el.getAttribute('aria-labelledby') || '').split(/\s+/).filter(Boolean);
  return ids.map((id) => (document.getElementById(id) || {}).textContent || '').join(' ').trim();
};
for (const el of document.querySelectorAll('input, select, textarea')) {
  if (el.type === 'hidden') continue;
  const labelled = [...(el.labels || [])].some((l) => l.textContent.trim()) || ariaName(el);
  if (!labelled) problems.push(`${describe(el)} has no label`);
}
for (const table of document.querySelectorAll('table')) {
  if (!table.querySelector('th')) problems.push(`${describe(table)} has no <th> headers`);
}
for (const el of document.querySelectorAll('button, input[type=submit], input[type=button], [role=button]')) {
  const name = ariaName(el) || (el.textContent || '').trim() || (el.value || '').trim()
    || (el.getAttribute('title') || '').trim();
  if (!name) problems.push(`${describe(el)} has no accessible name`);
}
for (const a of document.querySelectorAll('a[href]')) {
  if (!(ariaName(a) || a.textContent.trim())) problems.push(`link to ${a.getAttribute('href')} has no text`);
}
for (const svg of document.querySelectorAll('svg[role=img]')) {
  if (!(ariaName(svg) || (svg.querySelector('title') || {}).textContent)) {
    problems.push(`${describe(svg)} (role=img) has no aria-label or <title>`);
  }
}
return problems;
