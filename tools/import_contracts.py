"""Import Linter contract types of Pheu's own (``[tool.importlinter]`` in pyproject.toml, ``make check``).

A layers contract counts every module of a layer, descendants included, and every chain of imports through
them. The apps' tests are integration tests: they build their records with the shared factories
(``pheu.testing`` makes users, teams, contacts and leads) and a test of ``core`` may well create a lead.
Layering them would forbid that, so the layers are checked over the application code only.
"""

from __future__ import annotations

from typing import cast

import grimp
from importlinter.contracts.layers import LayersContract
from importlinter.domain import fields
from importlinter.domain.contract import ContractCheck
from importlinter.domain.helpers import module_expressions_to_modules
from importlinter.domain.imports import ModuleExpression


class CodeLayersContract(LayersContract):
    """The layers contract over the graph without the modules of ``tests`` (module expressions, each with
    its descendants); everything else is checked as the built-in ``layers`` contract checks it."""

    type_name = "code_layers"

    tests = fields.ListField(subfield=fields.ModuleExpressionField())

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        # The graph is this contract's own copy (Contract.check's contract): removing modules is local.
        for module in module_expressions_to_modules(graph, cast(list[ModuleExpression], self.tests)):
            for name in (module.name, *graph.find_descendants(module.name)):
                graph.remove_module(name)
        return super().check(graph, verbose)
