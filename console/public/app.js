// The console's shell: login screen, navigation between pages (hash routes), one page mounted at a time.
import { ApiError, currentUser, login, logout, onSessionEnd } from "./api.js";
import { h, status } from "./dom.js";
import * as alerts from "./pages/alerts.js";
import * as map from "./pages/map.js";
import * as problems from "./pages/problems.js";
import * as riders from "./pages/riders.js";
import * as today from "./pages/today.js";

const PAGES = { map, today, riders, problems, alerts };
const $ = (id) => document.getElementById(id);
let unmount = null;
let config = { tile_url: null };

async function show() {
  unmount?.();
  unmount = null;
  const user = currentUser();
  $("login").hidden = Boolean(user);
  $("shell").hidden = !user;
  if (!user) {
    $("login-form").elements.email.focus();
    return;
  }
  const name = location.hash.replace(/^#\/?/, "") || "map";
  const page = PAGES[name] ? name : "map";
  for (const link of $("nav").children) link.classList.toggle("active", link.dataset.page === page);
  const main = $("page");
  main.replaceChildren();
  main.className = `page-${page}`;
  document.title = `${PAGES[page].title} · Velo console`;
  unmount = (await PAGES[page].mount(main, { config })) || null;
}

$("nav").append(
  ...Object.entries(PAGES).map(([name, page]) =>
    h("a", { href: `#/${name}`, dataset: { page: name } }, page.title),
  ),
);

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  form.querySelector("button").disabled = true;
  try {
    const claims = await login(form.elements.email.value, form.elements.password.value);
    form.reset();
    $("login-error").textContent = "";
    $("who").textContent = claims.email;
    await show();
  } catch (error) {
    status($("login-error"), error instanceof ApiError && error.status === 401 ? new Error("Wrong email or password.") : error);
  } finally {
    form.querySelector("button").disabled = false;
  }
});

$("logout").addEventListener("click", () => logout());
onSessionEnd(() => show());
window.addEventListener("hashchange", () => show());

fetch("config.json", { cache: "no-store" })
  .then((response) => (response.ok ? response.json() : config))
  .then((loaded) => (config = loaded))
  .catch(() => {})
  .finally(() => show());
