"""Each package keeps to its floor: imports point one way, down the stack

    knowledge  ←  store, encoders  ←  answering  ←  indexer  ←  reminders  ←  bot  ←  planbot

`knowledge` (the pure reading and answering rules) imports none of ours; `store` (persistence)
and `encoders` (the e5 models) each import only `knowledge`, never each other; `answering` (the
KnowledgeBase) may use both; `indexer` (loaders, the pipeline, the checks, its commands) sits
above them; `planbot/cli.py` is the composition root.

Read from the source (every `import`, at module level or inside a function), so a lazy import
inside a command counts too."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.conftest import ROOT

BELOW = {"knowledge": set(), "store": {"knowledge"}, "encoders": {"knowledge"}}
BELOW["answering"] = {"store", "encoders"} | BELOW["store"] | BELOW["encoders"]
BELOW["indexer"] = {"answering"} | BELOW["answering"]
BELOW["reminders"] = {"indexer"} | BELOW["indexer"]
BELOW["bot"] = {"reminders"} | BELOW["reminders"]
BELOW["planbot"] = {"bot"} | BELOW["bot"]
LAYERS = list(BELOW)  # which of our packages each package may import


def imported_packages(path: Path) -> set[str]:
    """Top-level names of every absolute import in a module."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def forbidden_imports(package: str) -> list[str]:
    forbidden = set(LAYERS) - BELOW[package] - {package}
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for name in sorted(imported_packages(path) & forbidden):
            found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


@pytest.mark.parametrize("package", LAYERS)
def test_no_package_imports_a_higher_or_a_sibling_one(package):
    assert forbidden_imports(package) == []


def test_the_layers_point_one_way():
    assert not [(a, b) for a in LAYERS for b in BELOW[a] if a in BELOW[b] or a == b]
    assert "encoders" not in BELOW["store"] and "store" not in BELOW["encoders"]


def test_the_check_sees_a_lazy_import_inside_a_function(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from bot.app import run\n    import reminders.cli\n", encoding="utf-8")
    assert imported_packages(module) == {"bot", "reminders"}


def test_the_planbot_command_has_every_layer_s_commands():
    from planbot.cli import main

    assert {"index", "ask", "tasks", "check", "export", "run", "chat", "remind"} <= set(main.commands)


def modules_importing(package: str, names: set[str]) -> list[str]:
    """Modules of `package` that import any of the top-level packages `names`."""
    return [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for name in sorted(imported_packages(path) & names)
    ]


@pytest.mark.parametrize("package", ["knowledge", "store", "encoders", "answering", "indexer", "reminders"])
def test_only_the_bot_and_the_composition_root_talk_to_telegram(package):
    """Reminders send through a callable the bot gives them (`bot.reminders.jobs.sender`)."""
    assert modules_importing(package, {"telegram"}) == []


REMINDER_TABLES = re.compile(r"\b(subscriptions|sent_reminders|task_done|reminder_outbox)\b")


def code_strings(path: Path) -> list[str]:
    """The string literals of a module that are not docstrings (SQL lives in these)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


def test_only_the_reminders_and_the_migrations_name_the_reminder_tables():
    """Everyone else goes through `reminders.storage` / `reminders.notices`."""
    found = [
        f"{path.relative_to(ROOT)}: {match}"
        for package in LAYERS
        if package != "reminders"
        for path in sorted((ROOT / package).rglob("*.py"))
        if path.name != "migrations.py"
        for text in code_strings(path)
        for match in REMINDER_TABLES.findall(text)
    ]
    assert found == []


def test_the_table_check_sees_sql_but_not_docstrings(tmp_path):
    module = tmp_path / "m.py"
    module.write_text('"""The subscriptions table."""\nSQL = "SELECT 1 FROM sent_reminders"\n', encoding="utf-8")
    assert [REMINDER_TABLES.findall(t) for t in code_strings(module)] == [["sent_reminders"]]


STORAGE = ["store/database.py", "store/connection.py", "store/reads.py", "store/writes.py", "store/migrations.py"]
PIPELINE = {"knowledge.parsing.parser", "encoders.embedder", "encoders.lazy_model", "encoders.onnx_encoder", "encoders.onnx_fast",
            "encoders.convert_e5", "encoders.e5_rebuild", "encoders.e5s1_file", "indexer.indexing", "torch", "onnxruntime",
            "sentence_transformers"}


def imported_modules(path: Path) -> set[str]:
    """Full dotted names of every absolute import in a module (lazy ones too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("module", STORAGE)
def test_storage_only_stores(module):
    """The store imports neither the parser nor an encoder: the pipeline parses and embeds."""
    assert sorted(imported_modules(ROOT / module) & PIPELINE) == []


MAX_MODULES = 15  # planbot issue 18: a folder with more modules is split by concern


def crowded_folders(package: Path, allowed: int = MAX_MODULES) -> list[str]:
    """Folders of `package` (itself included) holding more than `allowed` modules (`*.py` but
    `__init__.py`), each with its count, named from the package's parent."""
    folders = [package, *(p for p in sorted(package.rglob("*")) if p.is_dir() and p.name != "__pycache__")]
    counts = {folder: sum(1 for p in folder.glob("*.py") if p.name != "__init__.py") for folder in folders}
    return [f"{folder.relative_to(package.parent)}: {n}" for folder, n in counts.items() if n > allowed]


@pytest.mark.parametrize("package", LAYERS)
def test_no_package_folder_holds_more_than_15_modules(package):
    assert crowded_folders(ROOT / package) == []


def test_the_folder_count_sees_a_crowded_subfolder(tmp_path):
    crowded = tmp_path / "pkg" / "sub"
    crowded.mkdir(parents=True)
    for name in ["__init__", *(f"m{i}" for i in range(MAX_MODULES))]:
        (crowded / f"{name}.py").write_text("", encoding="utf-8")
    assert crowded_folders(tmp_path / "pkg") == []
    (crowded / "one_more.py").write_text("", encoding="utf-8")
    assert crowded_folders(tmp_path / "pkg") == [f"{Path('pkg') / 'sub'}: {MAX_MODULES + 1}"]


def re_exports(path: Path) -> list[str]:
    """Names a module lists in `__all__` that it imports rather than defines (a shim for
    importers that should import from the defining module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    imported = {
        alias.asname or alias.name.split(".")[0]
        for node in tree.body
        if isinstance(node, ast.Import | ast.ImportFrom) and getattr(node, "module", "") != "__future__"
        for alias in node.names
    }
    exported = [
        name
        for node in tree.body
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "__all__" for t in node.targets)
        for name in ast.literal_eval(node.value)
    ]
    return [name for name in exported if name in imported]


@pytest.mark.parametrize("package", LAYERS)
def test_no_module_re_exports_what_it_imports(package):
    found = {
        str(path.relative_to(ROOT)): names
        for path in sorted((ROOT / package).rglob("*.py"))
        if (names := re_exports(path))
    }
    assert found == {}


def test_the_re_export_check_sees_a_shim(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("from a import b, c\n\n__all__ = ['b', 'd']\n\n\ndef d():\n    pass\n", encoding="utf-8")
    assert re_exports(module) == ["b"]
