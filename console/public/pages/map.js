// Map: stations sized by capacity and coloured by availability, bikes coloured by state and condition, the
// live rental count; a click opens the details with the operator's actions.
import { allPages, api } from "../api.js";
import { h, status, when } from "../dom.js";

export const title = "Map";

const STATUSES = "available,reserved,rented,maintenance";
const CONDITIONS = ["ok", "needs_check", "broken", "in_repair", "missing"];
// Colours also named in the legend; `data-colour` on each marker carries the same name for tests.
const BIKE_COLOURS = {
  available: "#1a9850",
  reserved: "#2c7fb8",
  rented: "#7b3294",
  maintenance: "#878787",
  needs_check: "#fdae61",
  broken: "#d7191c",
  in_repair: "#8c510a",
  missing: "#000000",
};
const STATION_COLOURS = { empty: "#d7191c", full: "#2c7fb8", some: "#1a9850", closed: "#878787" };

function bikeState(bike) {
  return bike.condition === "ok" ? bike.status : bike.condition;
}

function stationState(station) {
  if (!station.is_active) return "closed";
  if (station.available_bikes === 0) return "empty";
  if (station.free_docks === 0) return "full";
  return "some";
}

function legend() {
  const item = (colour, label) => {
    const swatch = h("span", { class: "swatch" });
    swatch.style.background = colour; // CSSOM, allowed by the CSP (a style attribute would not be)
    return h("li", {}, swatch, label);
  };
  return h(
    "div",
    { class: "legend" },
    h("h3", {}, "Stations"),
    h("ul", {}, ...Object.entries(STATION_COLOURS).map(([name, colour]) => item(colour, name))),
    h("h3", {}, "Bikes"),
    h("ul", {}, ...Object.entries(BIKE_COLOURS).map(([name, colour]) => item(colour, name.replace("_", " ")))),
  );
}

export async function mount(main, { config }) {
  const counts = h("p", { id: "map-counts", class: "counts" }, "Loading…");
  const details = h("aside", { id: "details", class: "details" }, h("p", { class: "muted" }, "Click a station or a bike."));
  const canvas = h("div", { id: "map", class: config.tile_url ? "map" : "map blank" });
  const reload = h("button", { type: "button", onclick: () => load() }, "Reload");
  main.append(h("div", { class: "toolbar" }, counts, reload), h("div", { class: "map-layout" }, canvas, details, legend()));

  const map = L.map(canvas, { preferCanvas: false, zoomControl: true });
  if (config.tile_url) {
    L.tileLayer(config.tile_url, {
      maxZoom: 19,
      attribution: '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
    }).addTo(map);
  }
  // A view first: Leaflet adds layers to a map without one only later, and markers need their elements now.
  map.setView([52.52, 13.405], 12);
  const layer = L.layerGroup().addTo(map);
  let stations = new Map();
  let bikes = new Map();
  let fitted = false;
  let selected = null;
  let alive = true;

  function bikePosition(bike, ring) {
    // Docked bikes sit on a small ring around their station so each can be clicked.
    const station = stations.get(bike.station_id);
    if (!station) return bike.lat !== null && bike.lon !== null ? [bike.lat, bike.lon] : null;
    const angle = (2 * Math.PI * ring.get(bike.id)) / Math.max(ring.size, 1);
    const radius = 0.0006 + 0.00002 * ring.size;
    return [station.lat + radius * Math.sin(angle), station.lon + (radius * Math.cos(angle)) / Math.cos((station.lat * Math.PI) / 180)];
  }

  function draw() {
    layer.clearLayers();
    const docked = new Map();
    for (const bike of bikes.values()) {
      if (!bike.station_id) continue;
      if (!docked.has(bike.station_id)) docked.set(bike.station_id, new Map());
      const ring = docked.get(bike.station_id);
      ring.set(bike.id, ring.size); // the bike's place on its station's ring
    }
    for (const station of stations.values()) {
      const state = stationState(station);
      const marker = L.circleMarker([station.lat, station.lon], {
        radius: Math.min(8 + 2 * Math.sqrt(station.capacity), 28),
        color: "#333",
        weight: 1,
        fillColor: STATION_COLOURS[state],
        fillOpacity: 0.45,
      })
        .bindTooltip(`${station.name}: ${station.available_bikes} bikes, ${station.free_docks} free docks`)
        .on("click", () => showStation(station.id))
        .addTo(layer);
      Object.assign(marker.getElement().dataset, { station: station.name, state, colour: state });
    }
    for (const bike of bikes.values()) {
      const position = bikePosition(bike, docked.get(bike.station_id) || new Map());
      if (!position) continue;
      const state = bikeState(bike);
      const marker = L.circleMarker(position, {
        radius: 5,
        color: "#fff",
        weight: 1,
        fillColor: BIKE_COLOURS[state],
        fillOpacity: 1,
      })
        .bindTooltip(`${bike.number}: ${bike.status}, ${bike.condition.replace("_", " ")}`)
        .on("click", () => showBike(bike.id))
        .addTo(layer);
      Object.assign(marker.getElement().dataset, { bike: bike.number, state, colour: state });
    }
  }

  async function load() {
    try {
      const [stationList, bikeList, today] = await Promise.all([
        allPages("/api/stations?include_inactive=true&page_size=100"),
        allPages(`/api/bikes?status=${STATUSES}&condition=${CONDITIONS.join(",")}&page_size=100`),
        api("/api/stats/today"),
      ]);
      if (!alive) return; // the operator left the page while this was loading
      stations = new Map(stationList.map((station) => [station.id, station]));
      bikes = new Map(bikeList.map((bike) => [bike.id, bike]));
      const broken = bikeList.filter((bike) => bike.condition !== "ok").length;
      counts.textContent = `${stations.size} stations · ${bikes.size} bikes (${broken} out of service) · ${today.active_rentals} live rentals`;
      counts.dataset.liveRentals = today.active_rentals;
      if (!fitted && stations.size) {
        map.fitBounds(L.latLngBounds([...stations.values()].map((station) => [station.lat, station.lon])).pad(0.3), { animate: false });
        fitted = true;
      }
      draw();
      if (selected) selected();
    } catch (error) {
      if (alive) status(counts, error);
    }
  }

  function field(label, input) {
    return h("label", {}, label, input);
  }

  function showStation(id) {
    selected = () => showStation(id);
    const station = stations.get(id);
    if (!station) return details.replaceChildren(h("p", {}, "This station is gone."));
    const message = h("p", { role: "status" });
    const name = h("input", { name: "name", value: station.name, maxlength: 200, required: true });
    const capacity = h("input", { name: "capacity", type: "number", min: 0, max: 10000, value: station.capacity });
    const save = async (body, done) => {
      try {
        const updated = await api(`/api/stations/${id}`, { method: "PATCH", body });
        stations.set(id, updated);
        draw();
        showStation(id);
        status(details.querySelector("[role=status]"), done);
      } catch (error) {
        status(message, error);
      }
    };
    const docked = [...bikes.values()].filter((bike) => bike.station_id === id);
    details.replaceChildren(
      h("h2", {}, station.name),
      h(
        "dl",
        {},
        h("dt", {}, "State"), h("dd", { id: "station-state" }, stationState(station)),
        h("dt", {}, "Capacity"), h("dd", {}, station.capacity),
        h("dt", {}, "Available bikes"), h("dd", {}, station.available_bikes),
        h("dt", {}, "Free docks"), h("dd", {}, station.free_docks),
        h("dt", {}, "Position"), h("dd", {}, `${station.lat.toFixed(5)}, ${station.lon.toFixed(5)}`),
      ),
      h(
        "form",
        {
          onsubmit: (event) => {
            event.preventDefault();
            save({ name: name.value, capacity: Number(capacity.value) }, "Saved.");
          },
        },
        field("Name", name),
        field("Capacity", capacity),
        h("button", { type: "submit" }, "Save"),
      ),
      h(
        "button",
        { type: "button", class: station.is_active ? "danger" : "", onclick: () => save({ is_active: !station.is_active }, station.is_active ? "Station closed." : "Station reopened.") },
        station.is_active ? "Close station" : "Reopen station",
      ),
      message,
      h("h3", {}, `Bikes here (${docked.length})`),
      h("ul", { class: "plain" }, ...docked.map((bike) => h("li", {}, h("a", { href: "#/map", onclick: (event) => { event.preventDefault(); showBike(bike.id); } }, bike.number), ` ${bikeState(bike).replace("_", " ")}`))),
    );
  }

  async function showBike(id) {
    selected = () => showBike(id);
    const bike = bikes.get(id);
    if (!bike) return details.replaceChildren(h("p", {}, "This bike is gone."));
    const message = h("p", { role: "status" });
    const condition = h("select", { name: "condition" }, ...CONDITIONS.map((value) => h("option", { value, selected: value === bike.condition }, value.replace("_", " "))));
    const reason = h("input", { name: "reason", maxlength: 500, required: true, placeholder: "What happened" });
    const model = h("input", { name: "model", value: bike.model, maxlength: 100, required: true });
    const history = h("ol", { class: "history" }, h("li", { class: "muted" }, "Loading history…"));
    const station = stations.get(bike.station_id);
    details.replaceChildren(
      h("h2", {}, `Bike ${bike.number}`),
      h(
        "dl",
        {},
        h("dt", {}, "Status"), h("dd", { id: "bike-status" }, bike.status),
        h("dt", {}, "Condition"), h("dd", { id: "bike-condition" }, bike.condition.replace("_", " ")),
        h("dt", {}, "Station"), h("dd", {}, station ? station.name : "–"),
        h("dt", {}, "Model"), h("dd", {}, bike.model),
      ),
      h(
        "form",
        {
          id: "condition-form",
          onsubmit: async (event) => {
            event.preventDefault();
            try {
              const result = await api(`/api/bikes/${id}/condition`, { method: "POST", body: { condition: condition.value, reason: reason.value } });
              bikes.set(id, { ...bike, condition: result.condition });
              draw();
              await showBike(id);
              status(details.querySelector("[role=status]"), `Condition set to ${result.condition.replace("_", " ")}.`);
            } catch (error) {
              status(message, error);
            }
          },
        },
        h("h3", {}, "Change condition"),
        field("Condition", condition),
        field("Reason", reason),
        h("button", { type: "submit" }, "Set condition"),
      ),
      h(
        "form",
        {
          onsubmit: async (event) => {
            event.preventDefault();
            try {
              bikes.set(id, await api(`/api/bikes/${id}`, { method: "PATCH", body: { model: model.value } }));
              draw();
              await showBike(id);
              status(details.querySelector("[role=status]"), "Saved.");
            } catch (error) {
              status(message, error);
            }
          },
        },
        h("h3", {}, "Edit"),
        field("Model", model),
        h("button", { type: "submit" }, "Save"),
      ),
      message,
      h("h3", {}, "Condition history"),
      history,
    );
    try {
      const result = await api(`/api/bikes/${id}/condition`);
      history.replaceChildren(
        ...(result.history.length
          ? result.history.slice(0, 10).map((change) => h("li", {}, `${when(change.created_at)}: ${change.from_condition} → ${change.to_condition} (${change.reason})`))
          : [h("li", { class: "muted" }, "No changes yet.")]),
      );
    } catch (error) {
      history.replaceChildren(h("li", { class: "error" }, error.message));
    }
  }

  await load();
  const timer = setInterval(load, 30_000);
  return () => {
    alive = false;
    clearInterval(timer);
    map.remove();
  };
}
