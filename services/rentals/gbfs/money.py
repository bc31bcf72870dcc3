"""Integer minor units → GBFS decimal major units, exactly."""

from decimal import Decimal

# ISO 4217 currencies whose minor unit is not 1/100 (the rest use two decimals).
_EXPONENTS = {
    **dict.fromkeys(
        [
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ],
        0,
    ),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
    "CLF": 4,
    "UYW": 4,
}


def currency_exponent(currency: str) -> int:
    return _EXPONENTS.get(currency.upper(), 2)


def minor_to_major(*, amount: int, currency: str) -> Decimal:
    return Decimal(int(amount)).scaleb(-currency_exponent(currency))


def json_number(value: Decimal) -> int | float:
    """A JSON-encodable number whose text is exactly `value`: an int when integral, otherwise a float whose
    shortest repr is the decimal itself (always true up to 15 significant digits; checked, never rounded)."""
    if value == value.to_integral_value():
        return int(value)
    number = float(value)
    if Decimal(repr(number)) != value:
        raise ValueError(f"{value} has no exact JSON number representation")
    return number
