"""What the Argo Rollouts controller does with a `web` metric's measurement, for the expressions our
AnalysisTemplate uses: the Kubernetes JSONPath ``{$.a.b}`` picks ``result`` from the JSON body, then
``successCondition`` / ``failureCondition`` (expr-lang: ``==``, ``!=``, ``||``, ``&&``, ``in [...]``,
string literals, ``result``) decide Successful, Failed or Inconclusive (failure is checked first,
as in argo-rollouts' analysis/utils EvaluateResult)."""

from __future__ import annotations

import ast
import re
from typing import Any

_PATH = re.compile(r"^\{\$((?:\.[A-Za-z_][A-Za-z0-9_-]*)*)\}$")


def json_path(expr: str, doc: Any) -> Any:
    m = _PATH.match(expr.strip())
    if not m:
        raise ValueError(f"unsupported jsonPath {expr!r}")
    for key in filter(None, m.group(1).split(".")):
        doc = doc[key]
    return doc


_ALLOWED = (ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.Compare, ast.Eq, ast.NotEq, ast.In, ast.NotIn,
            ast.Name, ast.Load, ast.Constant, ast.List, ast.UnaryOp, ast.Not)


def condition(expr: str, result: Any) -> bool:
    text = expr.replace("||", " or ").replace("&&", " and ")
    text = re.sub(r"!(?!=)", " not ", text)
    tree = ast.parse(text, mode="eval")
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED) or (isinstance(node, ast.Name) and node.id != "result"):
            raise ValueError(f"unsupported expression {expr!r}: {type(node).__name__}")
    return bool(eval(compile(tree, "<condition>", "eval"), {"__builtins__": {}}, {"result": result}))


def measure(metric: dict[str, Any], body: Any) -> str:
    """The measurement's phase: Successful, Failed or Inconclusive."""
    result = json_path(metric["provider"]["web"]["jsonPath"], body)
    if metric.get("failureCondition") and condition(metric["failureCondition"], result):
        return "Failed"
    if metric.get("successCondition") and condition(metric["successCondition"], result):
        return "Successful"
    return "Inconclusive"
