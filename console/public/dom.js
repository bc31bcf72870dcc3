// A tiny element builder: text always goes in as text (no innerHTML), so API data cannot inject markup.

export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(element.dataset, value);
    else element.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

export function money(item) {
  if (!item) return "–";
  const format = new Intl.NumberFormat(undefined, { style: "currency", currency: item.currency });
  const digits = format.resolvedOptions().maximumFractionDigits;
  return format.format(item.amount / 10 ** digits);
}

export function moneyList(items) {
  return items.length ? items.map(money).join(" + ") : money({ amount: 0, currency: "EUR" });
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  const minutes = Math.floor(seconds / 60);
  return minutes >= 60 ? `${Math.floor(minutes / 60)} h ${minutes % 60} min` : `${minutes} min ${Math.round(seconds % 60)} s`;
}

export function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "–";
}

/** A message line under a form: `status(el, "Saved")`, `status(el, error)`. */
export function status(element, message) {
  element.textContent = message instanceof Error ? message.message : message;
  element.className = message instanceof Error ? "error" : "ok";
}
