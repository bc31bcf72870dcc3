// Alerts: service alerts riders and trip planners see in GBFS system_alerts.json; create, end now, delete.
import { allPages, api } from "../api.js";
import { h, status, when } from "../dom.js";

export const title = "Alerts";

const TYPES = ["SYSTEM_CLOSURE", "STATION_CLOSURE", "STATION_MOVE", "OTHER"];
const text = (items) => items?.[0]?.text || "–";

export async function mount(main) {
  const message = h("p", { role: "status" });
  const rows = h("tbody", { id: "alert-rows" });
  const type = h("select", { name: "alert_type" }, ...TYPES.map((value) => h("option", { value }, value.replace("_", " ").toLowerCase())));
  const summary = h("input", { name: "summary", required: true, maxlength: 200, placeholder: "Short summary riders see" });
  const language = h("input", { name: "language", value: "en", required: true, size: 4, maxlength: 8 });
  const ends = h("input", { name: "ends_at", type: "datetime-local" });

  async function load() {
    try {
      const alerts = await allPages("/api/alerts?page_size=100");
      rows.replaceChildren(...alerts.map(row));
      if (!alerts.length) rows.append(h("tr", {}, h("td", { colspan: 5, class: "muted" }, "No alerts.")));
    } catch (error) {
      status(message, error);
    }
  }

  function row(alert) {
    const act = (options, done) => async () => {
      try {
        await api(`/api/alerts/${alert.id}`, options);
        status(message, done);
        await load();
      } catch (error) {
        status(message, error);
      }
    };
    const ended = alert.ends_at && new Date(alert.ends_at) <= new Date();
    return h(
      "tr",
      {},
      h("td", {}, alert.alert_type.replace("_", " ").toLowerCase()),
      h("td", {}, text(alert.summary)),
      h("td", {}, when(alert.starts_at)),
      h("td", {}, ended ? `ended ${when(alert.ends_at)}` : alert.ends_at ? when(alert.ends_at) : "open-ended"),
      h(
        "td",
        {},
        ended ? null : h("button", { type: "button", onclick: act({ method: "PATCH", body: { ends_at: new Date().toISOString() } }, "Alert ended.") }, "End now"),
        " ",
        h("button", { type: "button", class: "danger", onclick: act({ method: "DELETE" }, "Alert deleted.") }, "Delete"),
      ),
    );
  }

  main.append(
    h(
      "form",
      {
        class: "toolbar",
        onsubmit: async (event) => {
          event.preventDefault();
          const body = { alert_type: type.value, summary: [{ text: summary.value, language: language.value }] };
          if (ends.value) body.ends_at = new Date(ends.value).toISOString();
          try {
            await api("/api/alerts", { method: "POST", body });
            event.target.reset();
            status(message, "Alert published.");
            await load();
          } catch (error) {
            status(message, error);
          }
        },
      },
      h("label", {}, "Type ", type),
      h("label", {}, "Summary ", summary),
      h("label", {}, "Language ", language),
      h("label", {}, "Ends ", ends),
      h("button", { type: "submit" }, "Publish alert"),
    ),
    message,
    h("table", {}, h("thead", {}, h("tr", {}, ...["Type", "Summary", "Starts", "Ends", ""].map((label) => h("th", {}, label)))), rows),
  );
  await load();
}
