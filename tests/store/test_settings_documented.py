"""Every setting the code reads is in the README's configuration table, once, with its default,
and in ``.env.example``; nothing is documented that the code does not read.

The settings are found, not listed: every ``BaseSettings`` class in Watchbill's packages and
every field of it, so a setting added anywhere fails here until it is documented.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from pydantic_settings import BaseSettings

from store.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("store", "people", "schedules", "escalation", "paging", "calendars", "api", "web")


@dataclass(frozen=True)
class Setting:
    variable: str
    default: str | None  # None: unset


def _import_everything() -> None:
    for name in PACKAGES:
        try:
            package = importlib.import_module(name)
        except ModuleNotFoundError:
            continue  # a floor not built yet
        for module in pkgutil.walk_packages(package.__path__, f"{name}."):
            if ".migrations" not in module.name:
                importlib.import_module(module.name)


def _subclasses(cls: type[BaseSettings]) -> set[type[BaseSettings]]:
    found: set[type[BaseSettings]] = set()
    for sub in cls.__subclasses__():
        found |= {sub} | _subclasses(sub)
    return found


def _shown(value: Any) -> str | None:
    """A default as the README writes it."""
    if value is None or (isinstance(value, SecretStr) and not value.get_secret_value()):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def settings_in_code() -> dict[str, Setting]:
    _import_everything()
    classes = [c for c in _subclasses(BaseSettings) if c.__module__.split(".")[0] in PACKAGES]
    assert Settings in classes
    found: dict[str, Setting] = {}
    for cls in classes:
        prefix = str(cls.model_config.get("env_prefix", ""))
        for name, field in cls.model_fields.items():
            variable = (field.alias or f"{prefix}{name}").upper()
            assert variable not in found, f"{variable} is read by two settings classes"
            default = field.get_default(call_default_factory=True)
            found[variable] = Setting(variable, _shown(default))
    return found


def readme_table() -> list[Setting]:
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        if not line.startswith("| `WATCHBILL_"):
            continue
        cells = [cell.strip() for cell in line.strip("|").split(" | ")]
        names = re.findall(r"`(WATCHBILL_[A-Z0-9_]+)`", cells[0])
        assert len(names) == 1, f"one variable per row: {line}"
        default = cells[-1]
        value = None if default.startswith("unset") else re.match(r"`([^`]*)`", default)
        assert value is None or value, f"a default in backticks, or 'unset ...': {line}"
        rows.append(Setting(names[0], None if value is None else value.group(1)))
    return rows


def test_the_readme_lists_every_setting_once_with_its_default() -> None:
    code = settings_in_code()
    table = readme_table()
    documented = [row.variable for row in table]
    assert len(documented) == len(set(documented)), "a variable is documented twice"
    assert set(documented) == set(code), (
        f"not documented: {sorted(set(code) - set(documented))}; "
        f"documented but not read: {sorted(set(documented) - set(code))}"
    )
    for row in table:
        assert row.default == code[row.variable].default, row.variable


def test_env_example_lists_every_setting_with_its_default() -> None:
    lines = (ROOT / ".env.example").read_text().splitlines()
    found = {}
    for line in lines:
        match = re.fullmatch(r"#?\s*(WATCHBILL_[A-Z0-9_]+)=(.*)", line.strip())
        if match:
            assert match.group(1) not in found, f"{match.group(1)} twice"
            found[match.group(1)] = match.group(2) or None
    code = settings_in_code()
    assert set(found) == set(code)
    for variable, value in found.items():
        assert value == code[variable].default, variable


def test_env_example_as_it_is_changes_nothing() -> None:
    """Every line is commented out: copied to .env, the defaults hold until one is edited."""
    from_example = Settings(_env_file=ROOT / ".env.example")
    assert from_example.model_dump() == Settings(_env_file=None).model_dump()
