"""Money written for people, the same in the CLI, the report, the dashboard, model cards and `models list`.

"$73.58 / month", "less than $0.01 per 1,000 predictions", "$56,666", "$1.20M": two decimals
below a thousand dollars, whole dollars below a million, then millions and billions. Amounts
too small to pay are said to be so instead of being written with nine zeros.
"""

from __future__ import annotations

import math


def usd(amount: float | None, per: str | None = None) -> str:
    """Return `amount` in US dollars for a reader, with `per` ("/ month", "per 1,000 predictions") after it."""
    if amount is None or not math.isfinite(amount):
        return "—"
    size = abs(amount)
    if amount == 0:
        text = "$0.00"
    elif size < 0.005:
        text = "less than $0.01" if amount > 0 else "about -$0.00"
    else:
        sign = "-" if amount < 0 else ""
        if size < 1_000:
            text = f"{sign}${size:,.2f}"
        elif size < 1_000_000:
            text = f"{sign}${size:,.0f}"
        elif size < 1_000_000_000:
            text = f"{sign}${size / 1e6:,.2f}M"
        else:
            text = f"{sign}${size / 1e9:,.2f}B"
    return f"{text} {per}" if per else text
