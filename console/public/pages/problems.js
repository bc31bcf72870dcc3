// Problems: riders' problem reports, open ones first; an operator resolves or rejects them with a note.
import { api, pagePath } from "../api.js";
import { h, status, when } from "../dom.js";

export const title = "Problems";

export async function mount(main) {
  const filter = h("select", { name: "status" }, ...["open", "resolved", "rejected"].map((value) => h("option", { value }, value)));
  const message = h("p", { role: "status" });
  const rows = h("tbody", { id: "problem-rows" });
  let next = null;
  const more = h("button", { type: "button", hidden: true, onclick: () => load(next) }, "More");

  async function load(path = null) {
    try {
      const page = await api(path || `/api/problems?status=${filter.value}&page_size=50`);
      if (!path) rows.replaceChildren();
      rows.append(...page.results.map(row));
      next = pagePath(page.next);
      more.hidden = !next;
      rows.dataset.loaded = filter.value;
      status(message, rows.children.length ? "" : `No ${filter.value} reports.`);
    } catch (error) {
      status(message, error);
    }
  }

  function row(report) {
    const note = h("input", { name: "note", placeholder: "note", maxlength: 2000 });
    const close = (newStatus) => async () => {
      try {
        const updated = await api(`/api/problems/${report.id}`, { method: "PATCH", body: { status: newStatus, note: note.value } });
        tr.replaceWith(row(updated));
        status(message, `Report ${newStatus}. The bike's condition is changed on the map.`);
      } catch (error) {
        status(message, error);
      }
    };
    const tr = h(
      "tr",
      {},
      h("td", {}, when(report.created_at)),
      h("td", {}, report.category, report.unsafe ? h("span", { class: "badge danger" }, "unsafe") : null),
      h("td", {}, report.text || "–"),
      h("td", { title: report.bike_id }, report.bike_id.slice(0, 8), " ", h("span", { class: "muted" }, `(${report.bike_condition.replace("_", " ")})`)),
      h("td", {}, report.status, report.resolution_note ? ` – ${report.resolution_note}` : ""),
      h(
        "td",
        {},
        report.status === "open"
          ? [note, " ", h("button", { type: "button", onclick: close("resolved") }, "Resolve"), " ", h("button", { type: "button", onclick: close("rejected") }, "Reject")]
          : when(report.resolved_at),
      ),
    );
    return tr;
  }

  filter.addEventListener("change", () => load());
  main.append(
    h("div", { class: "toolbar" }, h("label", {}, "Status ", filter), message),
    h("table", {}, h("thead", {}, h("tr", {}, ...["Reported", "Category", "Text", "Bike", "Status", ""].map((text) => h("th", {}, text)))), rows),
    more,
  );
  await load();
}
