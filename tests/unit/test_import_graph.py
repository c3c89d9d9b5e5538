"""No module imports itself back: the import graph of ``podium`` has no cycle.

Deferred imports (inside a function) count: they hide a cycle, they don't remove it.
Imports under ``TYPE_CHECKING`` don't (they never run). Importing ``a.b.c`` also runs
the ``__init__`` of the packages ``a.b`` and ``a`` (unless the importer is inside them,
when they have run already), so those count as imports too. The layers between packages
(core knows no service, service no adapter...) are import-linter's contracts in
pyproject.toml, checked by ``scripts/test``.
"""

from __future__ import annotations

import grimp


def _with_package_inits(graph: grimp.ImportGraph) -> grimp.ImportGraph:
    """``graph`` plus an import of each package whose ``__init__`` an import runs."""
    for importer in list(graph.modules):
        for imported in graph.find_modules_directly_imported_by(importer):
            package = imported.rpartition(".")[0]
            while package and not (importer + ".").startswith(package + "."):
                if package in graph.modules and package != importer:
                    graph.add_import(importer=importer, imported=package)
                package = package.rpartition(".")[0]
    return graph


def _cycles(graph: grimp.ImportGraph) -> list[tuple[str, str]]:
    """Each direct import ``a -> b`` from which ``b`` leads back to ``a``."""
    return sorted(
        (importer, imported)
        for importer in graph.modules
        for imported in graph.find_modules_directly_imported_by(importer)
        if graph.chain_exists(importer=imported, imported=importer)
    )


def test_no_module_imports_itself_back() -> None:
    graph = grimp.build_graph("podium", exclude_type_checking_imports=True, cache_dir=None)
    graph = _with_package_inits(graph)
    cycles = _cycles(graph)
    shown = "\n".join(
        f"  {a} -> {b}, back by {' -> '.join(graph.find_shortest_chain(importer=b, imported=a) or ())}"
        for a, b in cycles
    )
    assert not cycles, f"imports that close a cycle:\n{shown}"


def _graph(*imports: tuple[str, str]) -> grimp.ImportGraph:
    graph = grimp.ImportGraph()
    for pair in imports:
        for module in pair:
            graph.add_module(module)
    for importer, imported in imports:
        graph.add_import(importer=importer, imported=imported)
    return graph


def test_a_cycle_is_found() -> None:
    graph = _graph(("p.a", "p.b"), ("p.b", "p.c"))
    assert _cycles(graph) == []
    graph.add_import(importer="p.c", imported="p.a")
    assert _cycles(graph) == [("p.a", "p.b"), ("p.b", "p.c"), ("p.c", "p.a")]


def test_a_package_init_that_imports_its_importer_back_is_a_cycle() -> None:
    # q/__init__ imports q.x, which imports p.a; p.a imports q.y: running q/__init__.
    graph = _graph(("q", "q.x"), ("q.x", "p.a"), ("p.a", "q.y"))
    assert _cycles(graph) == []
    assert _cycles(_with_package_inits(graph)) == [("p.a", "q"), ("q", "q.x"), ("q.x", "p.a")]


def test_a_module_importing_a_sibling_does_not_depend_on_their_package() -> None:
    graph = _graph(("q", "q.x"), ("q.x", "q.y"))
    assert _cycles(_with_package_inits(graph)) == []
