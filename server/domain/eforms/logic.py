"""A small JSON Logic evaluator for the rules of procedure forms (``visible_if``, ``required_if``).

Only the operators a form needs: ``var``, comparison, ``and``/``or``/``!``/``!!``, ``if``, ``in``,
arithmetic and ``missing``. It never executes code and never loops: every rule is a finite tree,
so a hostile definition cannot hang the server. The browser mirror is ``static/portal.js``.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from typing import Any

from shared.errors import InvalidInput

_MAX_DEPTH = 32


def _truthy(value: Any) -> bool:
    """JSON Logic truthiness: empty lists and strings, 0 and null are false."""
    if isinstance(value, list | tuple | str | dict):
        return len(value) > 0
    return bool(value)


def _var(data: Mapping[str, Any], path: Any, default: Any = None) -> Any:
    if path is None or path == "":
        return data
    current: Any = data
    for part in str(path).split("."):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return default
    return current


def _num(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _order(a: Any, b: Any) -> tuple[Any, Any]:
    """Operands of < > as comparable values: two ISO dates (``2026-04-01``) compare as dates,
    everything else as numbers (NaN when not a number, so the comparison is false)."""
    if isinstance(a, str) and isinstance(b, str) and _ISO_DATE.match(a) and _ISO_DATE.match(b):
        return a, b
    return _num(a), _num(b)


def _loose_eq(a: Any, b: Any) -> bool:
    if isinstance(a, int | float) or isinstance(b, int | float):
        try:
            return float(a) == float(b)
        except (TypeError, ValueError):
            return False
    return bool(a == b)


def _in(needle: Any, haystack: Any) -> bool:
    if isinstance(haystack, str):
        return isinstance(needle, str) and needle in haystack
    if isinstance(haystack, list):
        return needle in haystack
    return False


_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "==": _loose_eq,
    "!=": lambda a, b: not _loose_eq(a, b),
    "===": lambda a, b: a == b and type(a) is type(b),
    "!==": lambda a, b: not (a == b and type(a) is type(b)),
    ">": lambda a, b: operator.gt(*_order(a, b)),
    ">=": lambda a, b: operator.ge(*_order(a, b)),
    "<": lambda a, b: operator.lt(*_order(a, b)),
    "<=": lambda a, b: operator.le(*_order(a, b)),
    "in": _in,
    "-": lambda a, b: _num(a) - _num(b),
    "/": lambda a, b: _num(a) / _num(b) if _num(b) else None,
    "%": lambda a, b: _num(a) % _num(b) if _num(b) else None,
}


def evaluate(rule: Any, data: Mapping[str, Any], *, _depth: int = 0) -> Any:
    """The value of ``rule`` over ``data``; unknown operators raise :class:`InvalidInput`."""
    if _depth > _MAX_DEPTH:
        raise InvalidInput("条件式が深すぎます。", code="eform.rule_depth")
    if isinstance(rule, list):
        return [evaluate(r, data, _depth=_depth + 1) for r in rule]
    if not isinstance(rule, dict):
        return rule
    if len(rule) != 1:
        raise InvalidInput("条件式の形式が正しくありません。", code="eform.rule_shape")
    op, raw = next(iter(rule.items()))
    args = raw if isinstance(raw, list) else [raw]

    def ev(x: Any) -> Any:
        return evaluate(x, data, _depth=_depth + 1)

    if op == "var":
        values = [ev(a) for a in args]
        return _var(data, values[0] if values else None, values[1] if len(values) > 1 else None)
    if op == "missing":
        names = [ev(a) for a in args]
        flat = names[0] if len(names) == 1 and isinstance(names[0], list) else names
        return [n for n in flat if _var(data, n) in (None, "", [])]
    if op == "and":
        value: Any = True
        for a in args:
            value = ev(a)
            if not _truthy(value):
                return value
        return value
    if op == "or":
        value = False
        for a in args:
            value = ev(a)
            if _truthy(value):
                return value
        return value
    if op == "if":
        for i in range(0, len(args) - 1, 2):
            if _truthy(ev(args[i])):
                return ev(args[i + 1])
        return ev(args[-1]) if len(args) % 2 == 1 else None
    if op == "!":
        return not _truthy(ev(args[0]))
    if op == "!!":
        return _truthy(ev(args[0]))
    if op == "+":
        return sum(_num(ev(a)) for a in args)
    if op == "*":
        result = 1.0
        for a in args:
            result *= _num(ev(a))
        return result
    if op in _BINARY and len(args) == 2:
        return _BINARY[op](ev(args[0]), ev(args[1]))
    raise InvalidInput("条件式に使えない演算子があります。", code="eform.rule_operator")


def holds(rule: Any, data: Mapping[str, Any]) -> bool:
    """True if ``rule`` (None: always) is truthy over ``data``."""
    return True if rule is None else _truthy(evaluate(rule, data))
