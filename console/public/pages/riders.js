// Riders: find accounts by email (auth's admin API), disable or re-enable them, read a rider's wallet and ledger.
import { api, pagePath } from "../api.js";
import { h, money, status, when } from "../dom.js";

export const title = "Riders";

export async function mount(main) {
  const query = h("input", { name: "email", type: "search", placeholder: "part of an email address", autocomplete: "off" });
  const message = h("p", { role: "status" });
  const results = h("tbody", { id: "rider-results" });
  const wallet = h("section", { id: "wallet", class: "wallet" });

  async function search() {
    try {
      const page = await api(`/api/auth/users?email=${encodeURIComponent(query.value.trim())}&page_size=50`);
      results.replaceChildren(...page.results.map(row));
      status(message, page.results.length ? "" : "No account matches.");
    } catch (error) {
      status(message, error);
    }
  }

  function row(user) {
    const toggle = h(
      "button",
      {
        type: "button",
        class: user.is_active ? "danger" : "",
        onclick: async () => {
          try {
            const updated = await api(`/api/auth/users/${user.id}`, { method: "PATCH", body: { is_active: !user.is_active } });
            tr.replaceWith(row(updated));
            status(message, `${updated.email} ${updated.is_active ? "enabled" : "disabled"}.`);
          } catch (error) {
            status(message, error);
          }
        },
      },
      user.is_active ? "Disable" : "Enable",
    );
    const tr = h(
      "tr",
      { dataset: { email: user.email } },
      h("td", {}, user.email),
      h("td", {}, user.name),
      h("td", { class: "account-state" }, user.is_active ? "active" : "disabled"),
      h("td", {}, user.email_verified ? "yes" : "no"),
      h("td", {}, user.roles.join(", ")),
      h("td", {}, when(user.date_joined)),
      h("td", {}, toggle, " ", h("button", { type: "button", onclick: () => showWallet(user) }, "Wallet")),
    );
    return tr;
  }

  async function showWallet(user, cursorPath = null) {
    wallet.replaceChildren(h("h2", {}, `Wallet of ${user.email}`), h("p", { class: "muted" }, "Loading…"));
    try {
      const [wallets, ledger] = await Promise.all([
        api(`/api/wallets?user_id=${user.id}`),
        api(cursorPath || `/api/wallets/${user.id}/transactions?page_size=20`),
      ]);
      const balance = wallets.results[0]?.balance;
      const next = pagePath(ledger.next);
      wallet.replaceChildren(
        h("h2", {}, `Wallet of ${user.email}`),
        h("p", {}, "Balance: ", h("strong", { id: "wallet-balance" }, balance ? money(balance) : "no wallet yet")),
        h(
          "table",
          {},
          h("thead", {}, h("tr", {}, ...["When", "Kind", "Amount", "Balance after", "Reference", "Reason"].map((text) => h("th", {}, text)))),
          h(
            "tbody",
            {},
            ...ledger.results.map((entry) =>
              h("tr", {}, h("td", {}, when(entry.created_at)), h("td", {}, entry.kind.replace("_", " ")), h("td", { class: "num" }, money(entry.amount)), h("td", { class: "num" }, money(entry.balance_after)), h("td", {}, entry.reference), h("td", {}, entry.reason)),
            ),
          ),
        ),
        ...(ledger.results.length ? [] : [h("p", { class: "muted" }, "No ledger entries.")]),
        ...(next ? [h("button", { type: "button", onclick: () => showWallet(user, next) }, "Older entries")] : []),
      );
    } catch (error) {
      wallet.replaceChildren(h("p", { class: "error" }, error.message));
    }
  }

  main.append(
    h(
      "form",
      { class: "toolbar", onsubmit: (event) => { event.preventDefault(); search(); } },
      h("label", {}, "Email ", query),
      h("button", { type: "submit" }, "Search"),
      message,
    ),
    h(
      "table",
      {},
      h("thead", {}, h("tr", {}, ...["Email", "Name", "Account", "Verified", "Roles", "Joined", ""].map((text) => h("th", {}, text)))),
      results,
    ),
    wallet,
  );
  query.focus();
  await search();
}
