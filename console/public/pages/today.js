// Today: the day in numbers from GET /api/stats/today, as tiles and charts, refreshed every 10 seconds.
import { api } from "../api.js";
import { duration, h, money, moneyList, status } from "../dom.js";

export const title = "Today";

const REFRESH_MS = 10_000;

function tile(id, label) {
  return h("div", { class: "tile" }, h("span", { class: "label" }, label), h("strong", { id }, "–"));
}

function chart(canvas, datasets, { money: isMoney = false } = {}) {
  return new Chart(canvas, {
    type: "bar",
    data: { labels: [], datasets },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      scales: { y: { beginAtZero: true, ticks: { precision: isMoney ? 2 : 0 } } },
      plugins: { legend: { position: "bottom" } },
    },
  });
}

export async function mount(main) {
  const message = h("p", { role: "status", class: "muted" });
  const tiles = h(
    "div",
    { class: "tiles" },
    tile("t-rides-started", "Rides started"),
    tile("t-rides-finished", "Rides finished"),
    tile("t-revenue", "Revenue (billed)"),
    tile("t-average-duration", "Average ride"),
    tile("t-active-rentals", "Live rentals"),
    tile("t-billing-pending", "Waiting for billing"),
    tile("t-billing-lag", "Billing lag (avg)"),
    tile("t-open-problems", "Open problem reports"),
  );
  const ridesCanvas = h("canvas", { id: "chart-rides", "aria-label": "Rides per hour" });
  const revenueCanvas = h("canvas", { id: "chart-revenue", "aria-label": "Revenue per hour" });
  main.append(
    h("div", { class: "toolbar" }, h("h1", { id: "today-title" }, "Today"), h("button", { type: "button", id: "today-refresh", onclick: () => load() }, "Refresh"), message),
    tiles,
    h(
      "div",
      { class: "charts" },
      h("section", { class: "chart" }, h("h2", {}, "Rides per hour (UTC)"), h("div", { class: "chart-box" }, ridesCanvas)),
      h("section", { class: "chart" }, h("h2", { id: "revenue-title" }, "Revenue per hour (UTC)"), h("div", { class: "chart-box" }, revenueCanvas)),
    ),
  );
  const rides = chart(ridesCanvas, [
    { label: "started", data: [], backgroundColor: "#2c7fb8" },
    { label: "finished", data: [], backgroundColor: "#1a9850" },
  ]);
  const revenue = chart(revenueCanvas, [{ label: "revenue", data: [], backgroundColor: "#fdae61" }], { money: true });

  let alive = true;

  async function load() {
    try {
      const stats = await api("/api/stats/today");
      if (!alive) return;
      const set = (id, text) => (document.getElementById(id).textContent = text);
      set("today-title", `Today (${stats.date}, UTC)`);
      set("t-rides-started", stats.totals.rides_started);
      set("t-rides-finished", stats.totals.rides_finished);
      set("t-revenue", moneyList(stats.totals.revenue));
      set("t-average-duration", duration(stats.totals.average_duration_seconds));
      set("t-active-rentals", stats.active_rentals);
      set("t-billing-pending", stats.billing.pending);
      set("t-billing-lag", stats.billing.average_lag_seconds === null ? "–" : `${stats.billing.average_lag_seconds} s`);
      set("t-open-problems", stats.open_problem_reports);
      const labels = stats.hours.map((hour) => `${hour.hour.slice(11, 13)}:00`);
      rides.data.labels = labels;
      rides.data.datasets[0].data = stats.hours.map((hour) => hour.rides_started);
      rides.data.datasets[1].data = stats.hours.map((hour) => hour.rides_finished);
      rides.update();
      // One currency per chart: the day's first (a single-currency system has only one).
      const currency = stats.totals.revenue[0]?.currency || "EUR";
      const digits = new Intl.NumberFormat(undefined, { style: "currency", currency }).resolvedOptions().maximumFractionDigits;
      set("revenue-title", `Revenue per hour (UTC, ${currency})`);
      revenue.data.labels = labels;
      revenue.data.datasets[0].data = stats.hours.map(
        (hour) => (hour.revenue.find((item) => item.currency === currency)?.amount || 0) / 10 ** digits,
      );
      revenue.options.plugins.tooltip = { callbacks: { label: (item) => money({ amount: Math.round(item.raw * 10 ** digits), currency }) } };
      revenue.update();
      main.dataset.generatedAt = stats.generated_at;
      status(message, `Updated ${new Date(stats.generated_at).toLocaleTimeString()}`);
    } catch (error) {
      status(message, error);
    }
  }

  await load();
  const timer = setInterval(load, REFRESH_MS);
  return () => {
    alive = false;
    clearInterval(timer);
    rides.destroy();
    revenue.destroy();
  };
}
