"""Model references: `churn`, `churn@production`, `churn:3`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from depthgauge.errors import DepthgaugeError

NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
ALIASES = ("candidate", "staging", "production")


@dataclass(frozen=True)
class ModelRef:
    name: str
    version: int | None = None
    alias: str | None = None

    def __str__(self) -> str:
        if self.version is not None:
            return f"{self.name}:{self.version}"
        return f"{self.name}@{self.alias}" if self.alias else self.name


def check_name(name: str) -> str:
    if not NAME.fullmatch(name or ""):
        raise DepthgaugeError(
            f"'{name}' is not a valid model name. Use a letter followed by up to 63 letters, digits, '-' or '_', "
            "e.g. churn or churn-v2."
        )
    return name


def check_alias(alias: str) -> str:
    if alias not in ALIASES:
        raise DepthgaugeError(f"Unknown alias '{alias}'. Aliases are: {', '.join(ALIASES)}.")
    return alias


def parse_ref(text: str) -> ModelRef:
    """Return the reference in `text`, or raise an error showing the three forms."""
    forms = "Write NAME, NAME@ALIAS or NAME:VERSION, e.g. churn, churn@production or churn:3."
    if "@" in text:
        name, alias = text.split("@", 1)
        check_name(name)
        if alias not in ALIASES:
            raise DepthgaugeError(f"Unknown alias '{alias}' in '{text}'. Aliases are: {', '.join(ALIASES)}. {forms}")
        return ModelRef(name, alias=alias)
    if ":" in text:
        name, version = text.split(":", 1)
        check_name(name)
        if not version.isdigit() or int(version) < 1:
            raise DepthgaugeError(f"'{version}' in '{text}' is not a version number. {forms}")
        return ModelRef(name, version=int(version))
    try:
        return ModelRef(check_name(text))
    except DepthgaugeError:
        raise DepthgaugeError(f"'{text}' is not a model reference. {forms}") from None
