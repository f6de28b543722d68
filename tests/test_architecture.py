"""The shape of the code, read with the stdlib ``ast``: floors, file sizes, folder sizes.

Floors (imports point down only; ``docs`` and /work/shared/ARCHITECTURE.md draw them)::

    api, web  ->  paging  ->  escalation  ->  schedules  ->  people, store
    calendars ->  escalation, schedules, people, store

``people`` and ``store`` import nothing above them, nothing imports ``api`` or ``web`` (tests and
``bench`` may import anything). A file over 400 lines is split by concept (migrations exempt);
a package folder over 12 modules gets rooms.

The ``TODAY_*`` allow-lists name what breaks a rule today, each with why; the work that fixes
one removes its line (the tests below also fail when a listed offender is fixed and still
listed, so the lists only shrink).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOUNDATION = frozenset({"people", "store"})
#: What each package may import besides itself (standard library and third parties aside).
MAY_IMPORT: dict[str, frozenset[str]] = {
    "store": frozenset(),
    "people": frozenset({"store"}),
    "schedules": FOUNDATION,
    "escalation": FOUNDATION | {"schedules"},
    "calendars": FOUNDATION | {"schedules", "escalation"},
    "paging": FOUNDATION | {"schedules", "escalation"},
    "web": FOUNDATION | {"schedules", "escalation", "calendars", "paging"},
    "api": FOUNDATION | {"schedules", "escalation", "calendars", "paging"},
}
PACKAGES = frozenset(MAY_IMPORT)
#: Checked for size too (they may import anything).
ALSO_SIZED = ("tests", "bench")
#: Migrations must know every table (and old ones must not change): exempt from every rule.
MIGRATIONS = ROOT / "store" / "migrations"
MAX_LINES = 400
MAX_MODULES = 12

#: Deliberate: the one place that composes the HTTP API and the web UI into one application.
COMPOSITION = frozenset({("api/app.py", "web")})

#: Imports that point up or sideways today, as "file -> package".
TODAY_UPWARD_IMPORTS: frozenset[str] = frozenset()
#: Files over MAX_LINES today.
TODAY_LONG_FILES: frozenset[str] = frozenset()
#: Package folders over MAX_MODULES today.
TODAY_CROWDED_FOLDERS: frozenset[str] = frozenset()


def _python_files(top: str) -> Iterator[Path]:
    for path in sorted((ROOT / top).rglob("*.py")):
        if not path.is_relative_to(MIGRATIONS):
            yield path


def _name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def imported_packages(source: str, own: str) -> set[str]:
    """Our packages that ``source`` (a module of package ``own``) imports, anywhere in it
    (imports inside functions and ``if TYPE_CHECKING:`` included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: stays inside the module's own package
                found.add(own)
            elif node.module is not None:
                found.add(node.module.split(".")[0])
    return found & PACKAGES


def _imported_packages(path: Path) -> set[str]:
    own = path.relative_to(ROOT).parts[0]
    return imported_packages(path.read_text(encoding="utf-8"), own)


def upward_imports() -> set[str]:
    wrong: set[str] = set()
    for package, allowed in MAY_IMPORT.items():
        for path in _python_files(package):
            for target in _imported_packages(path) - allowed - {package}:
                if (_name(path), target) not in COMPOSITION:
                    wrong.add(f"{_name(path)} -> {target}")
    return wrong


def long_files() -> set[str]:
    found: set[str] = set()
    for top in (*sorted(PACKAGES), *ALSO_SIZED):
        for path in _python_files(top):
            with path.open(encoding="utf-8") as lines:
                if sum(1 for _ in lines) > MAX_LINES:
                    found.add(_name(path))
    return found


def crowded_folders() -> set[str]:
    found: set[str] = set()
    for package in sorted(PACKAGES):
        for init in (ROOT / package).rglob("__init__.py"):
            folder = init.parent
            if folder.is_relative_to(MIGRATIONS):
                continue
            modules = [p for p in folder.glob("*.py") if p.name != "__init__.py"]
            if len(modules) > MAX_MODULES:
                found.add(_name(folder))
    return found


def test_imports_point_down_the_floors_only() -> None:
    wrong = upward_imports()
    assert wrong - TODAY_UPWARD_IMPORTS == set(), "imports pointing up a floor"
    assert TODAY_UPWARD_IMPORTS - wrong == set(), "fixed: remove from TODAY_UPWARD_IMPORTS"


def test_people_and_store_import_nothing_above_them() -> None:
    for package in sorted(FOUNDATION):
        for path in _python_files(package):
            above = _imported_packages(path) - FOUNDATION
            assert above <= MAY_IMPORT[package], f"{_name(path)} imports {sorted(above)}"


def test_nothing_imports_api_or_web() -> None:
    for package in sorted(PACKAGES):
        for path in _python_files(package):
            tops = _imported_packages(path) - {package}
            for target in tops & {"api", "web"}:
                assert (_name(path), target) in COMPOSITION, f"{_name(path)} imports {target}"


def test_no_file_is_over_400_lines() -> None:
    found = long_files()
    assert found - TODAY_LONG_FILES == set(), "split these by concept"
    assert TODAY_LONG_FILES - found == set(), "fixed: remove from TODAY_LONG_FILES"


def test_no_package_folder_holds_more_than_12_modules() -> None:
    found = crowded_folders()
    assert found - TODAY_CROWDED_FOLDERS == set(), "give these folders rooms"
    assert TODAY_CROWDED_FOLDERS - found == set(), "fixed: remove from TODAY_CROWDED_FOLDERS"


def test_the_checks_see_every_package_and_every_form_of_import() -> None:
    for package in PACKAGES:
        assert any(True for _ in _python_files(package)), f"no files found under {package}"
    source = (
        "import paging.outbox.models\n"
        "from api import app\n"
        "from . import sibling\n"
        "def later() -> None:\n"
        "    from escalation import step\n"
        "if TYPE_CHECKING:\n"
        "    import web.deps as deps\n"
        "import json, sqlalchemy\n"
    )
    assert imported_packages(source, "store") == {"paging", "api", "store", "escalation", "web"}
