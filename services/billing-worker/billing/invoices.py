"""The invoice document (JSON) and its HTML rendering. Pure functions."""

from __future__ import annotations

import html
import json
import uuid
from datetime import datetime
from typing import Any

from billing.costs import rental_cost
from billing.events import parse_rfc3339, rfc3339

SCHEMA_VERSION = 1


def invoice_id_for(*, rental_id: str) -> str:
    """uuid5(NAMESPACE_URL, "velo:invoice:" + rental_id), per docs/ARCHITECTURE.md."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"velo:invoice:{rental_id}"))


def invoice_key_for(*, rental_id: str, ended_at: datetime) -> str:
    """``invoices/{yyyy}/{mm}/{rental_id}.json`` with yyyy/mm of ended_at (UTC)."""
    return f"invoices/{ended_at.year:04d}/{ended_at.month:02d}/{rental_id}.json"


def html_key_for(*, json_key: str) -> str:
    return json_key.removesuffix(".json") + ".html"


def invoice_number_for(*, rental_id: str, ended_at: datetime) -> str:
    """``INV-{yyyymm}-{the rental id's 32 hex digits, upper case}``: unique because the rental id is (the
    earlier 8-digit form collided after some 10^4 rentals a month; invoices stored with it keep it)."""
    return f"INV-{ended_at.year:04d}{ended_at.month:02d}-{uuid.UUID(rental_id).hex.upper()}"


def money(amount: int, currency: str) -> str:
    sign = "-" if amount < 0 else ""
    whole, cents = divmod(abs(amount), 100)
    return f"{sign}{whole}.{cents:02d} {currency}"


def invoice_build(*, event: dict[str, Any], issued_at: datetime) -> dict[str, Any]:
    data = event["data"]
    tariff = data["tariff"]
    currency = tariff["currency"]
    ended_at = parse_rfc3339(data["ended_at"])
    rental_id = data["rental_id"]
    cost = rental_cost(
        duration_seconds=data["duration_seconds"],
        unlock_fee=tariff["unlock_fee"],
        price_per_minute=tariff["price_per_minute"],
        daily_cap=tariff["daily_cap"],
        unlock_fee_waived=data.get("unlock_fee_waived", False),
    )
    line_items: list[dict[str, Any]] = [
        {
            "kind": "unlock_fee",
            "description": "Unlock fee (waived: problem reported)"
            if cost.unlock_fee_waived
            else "Unlock fee",
            "quantity": 1,
            "unit": "unlock",
            "unit_price": tariff["unlock_fee"],
            "amount": cost.unlock_fee_charged,
        }
    ]
    many_windows = len(cost.windows) > 1
    for window in cost.windows:
        description = "Riding time"
        if tariff["daily_cap"] is not None and many_windows:
            description = f"Riding time, day {window.index + 1}"
        if window.capped:
            description += " (daily cap applied)"
        line_items.append(
            {
                "kind": "riding_time",
                "description": description,
                "quantity": window.minutes,
                "unit": "minute",
                "unit_price": tariff["price_per_minute"],
                "amount": window.amount,
                "capped": window.capped,
            }
        )
    json_key = invoice_key_for(rental_id=rental_id, ended_at=ended_at)
    return {
        "schema_version": SCHEMA_VERSION,
        "invoice_id": invoice_id_for(rental_id=rental_id),
        "invoice_number": invoice_number_for(rental_id=rental_id, ended_at=ended_at),
        "rental_id": rental_id,
        "rider": {"id": data["user_id"], "name": data["user_name"], "email": data["user_email"]},
        "bike": {"id": data["bike_id"], "number": data["bike_number"]},
        "start_station_id": data.get("start_station_id"),
        "end_station_id": data.get("end_station_id"),
        "started_at": data["started_at"],
        "ended_at": data["ended_at"],
        "duration_seconds": data["duration_seconds"],
        "billed_minutes": cost.minutes,
        "tariff": {
            "id": tariff["id"],
            "name": tariff["name"],
            "unlock_fee": tariff["unlock_fee"],
            "price_per_minute": tariff["price_per_minute"],
            "daily_cap": tariff["daily_cap"],
            "currency": currency,
        },
        "unlock_fee_waived": cost.unlock_fee_waived,
        "line_items": line_items,
        "total": {"amount": cost.total, "currency": currency},
        "currency": currency,
        "issued_at": rfc3339(issued_at),
        "source_event_id": event["event_id"],
        "s3_key": json_key,
        "html_key": html_key_for(json_key=json_key),
    }


def invoice_json_bytes(invoice: dict[str, Any]) -> bytes:
    return json.dumps(invoice, indent=2, ensure_ascii=False).encode("utf-8")


def _duration_text(seconds: int) -> str:
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours:d}:{minutes:02d}:{secs:02d}"
    return f"{days} d {text}" if days else text


def invoice_html(invoice: dict[str, Any]) -> str:
    e = html.escape
    currency = invoice["total"]["currency"]
    rows = "\n".join(
        "<tr><td>{}</td><td class=n>{} {}</td><td class=n>{}</td><td class=n>{}</td></tr>".format(
            e(item["description"]),
            item["quantity"],
            e(item["unit"]),
            e(money(item["unit_price"], currency)),
            e(money(item["amount"], currency)),
        )
        for item in invoice["line_items"]
    )
    tariff = invoice["tariff"]
    cap = money(tariff["daily_cap"], currency) if tariff["daily_cap"] is not None else "none"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Invoice {e(invoice["invoice_number"])}</title>
<style>body{{font-family:sans-serif;max-width:40em;margin:2em auto}}td,th{{padding:.2em .6em}}
.n{{text-align:right}}table{{border-collapse:collapse}}
tfoot td{{border-top:1px solid #000;font-weight:bold}}</style>
</head><body>
<h1>Velo invoice {e(invoice["invoice_number"])}</h1>
<p>Invoice id {e(invoice["invoice_id"])}<br>Issued {e(invoice["issued_at"])}</p>
<p>Rider: {e(invoice["rider"]["name"])} &lt;{e(invoice["rider"]["email"])}&gt;</p>
<p>Bike {e(invoice["bike"]["number"])}, rental {e(invoice["rental_id"])}<br>
From {e(invoice["started_at"])} to {e(invoice["ended_at"])} ({e(_duration_text(invoice["duration_seconds"]))},
{invoice["billed_minutes"]} started minutes)</p>
<p>Tariff {e(tariff["name"])}: unlock {e(money(tariff["unlock_fee"], currency))},
{e(money(tariff["price_per_minute"], currency))} per minute, daily cap {e(cap)}</p>
<table><thead><tr><th>Item</th><th class=n>Quantity</th><th class=n>Unit price</th>
<th class=n>Amount</th></tr></thead>
<tbody>
{rows}
</tbody>
<tfoot><tr><td colspan=3>Total</td>
<td class=n>{e(money(invoice["total"]["amount"], currency))}</td></tr></tfoot>
</table>
</body></html>
"""
