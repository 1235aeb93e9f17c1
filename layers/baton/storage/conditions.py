"""Declarative conditions: one rule, two renderings. A `Rule` is a conjunction of clauses over
an object's fields; `holds` evaluates it in Python on the fields as the rules see them, and
`condition` renders it as a DynamoDB ConditionExpression over the item that stores those fields
(an absent attribute is a None field). So a check made on a read and the condition that pins it
at write time come from one source (tests/unit/test_claim_rule.py shows they agree on every state).

The four types are NamedTuples: immutable values, and each costs a cold start a fraction of what a
frozen dataclass costs to create (this module is imported by every task function)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, NamedTuple

from baton.attrs import to_attr

Op = Literal["eq", "absent", "present", "contains", "lacks", "size", "le", "gt", "below", "any"]


class Param(NamedTuple):
    """A value given when the rule is applied (the caller, the expected version, ...)."""

    name: str


class Clause(NamedTuple):
    field: str  # "" for `any`
    op: Op
    value: Any = None  # a constant, or a Param; for `any`, the clauses of which one must hold

    def value_for(self, params: Mapping[str, Any]) -> Any:
        return params[self.value.name] if isinstance(self.value, Param) else self.value

    def holds(self, fields: Mapping[str, Any], params: Mapping[str, Any]) -> bool:
        if self.op == "any":
            return any(c.holds(fields, params) for c in self.value)
        have = fields.get(self.field)
        if self.op == "absent":
            return have is None
        if self.op == "present":
            return have is not None
        if self.op == "below":  # another field of the same item
            other = fields.get(self.value)
            return have is not None and other is not None and bool(have < other)
        if self.op == "lacks":  # NOT contains: a missing attribute contains nothing
            return have is None or self.value_for(params) not in have
        if have is None:  # DynamoDB: a comparison with a missing attribute is false
            return False
        want = self.value_for(params)
        if self.op == "eq":
            return bool(have == want)
        if self.op == "contains":
            return want in have
        if self.op == "le":
            return bool(have <= want)
        if self.op == "gt":
            return bool(have > want)
        return len(have) == want  # size

    def render(self, placeholder: str, names: dict[str, str], values: dict[str, Any],
               params: Mapping[str, Any]) -> str:
        """This clause as a ConditionExpression term, its placeholders `#{placeholder}`/`:{placeholder}`."""
        if self.op == "any":
            terms = [c.render(f"{placeholder}_{i}", names, values, params) for i, c in enumerate(self.value)]
            return "(" + " OR ".join(terms) + ")"
        name = f"#{placeholder}"
        names[name] = self.field
        if self.op == "absent":
            return f"attribute_not_exists({name})"
        if self.op == "present":
            return f"attribute_exists({name})"
        if self.op == "below":
            names[f"{name}b"] = self.value
            return f"{name} < {name}b"
        value = f":{placeholder}"
        values[value] = to_attr(self.value_for(params))
        return {"eq": f"{name} = {value}", "contains": f"contains({name}, {value})", "size": f"size({name}) = {value}",
                "lacks": f"NOT contains({name}, {value})",
                "le": f"{name} <= {value}", "gt": f"{name} > {value}"}[self.op]


def eq(field: str, value: Any) -> Clause:
    return Clause(field, "eq", value)


def lacks(field: str, value: Any) -> Clause:
    return Clause(field, "lacks", value)


def absent(field: str) -> Clause:
    return Clause(field, "absent")


def contains(field: str, value: Any) -> Clause:
    return Clause(field, "contains", value)


def size(field: str, n: Any) -> Clause:
    return Clause(field, "size", n)


def at_most(field: str, value: Any) -> Clause:
    return Clause(field, "le", value)


def after(field: str, value: Any) -> Clause:
    return Clause(field, "gt", value)


def present(field: str) -> Clause:
    return Clause(field, "present")


def below(field: str, other: str) -> Clause:
    """The field is less than another field of the same item (both present)."""
    return Clause(field, "below", other)


def either(*clauses: Clause) -> Clause:
    """One of the clauses holds (at least one)."""
    if not clauses:
        raise ValueError("either() needs at least one clause")
    return Clause("", "any", tuple(clauses))


class Condition(NamedTuple):
    """A rendered rule: the three parameters of a conditional write."""

    expression: str
    names: dict[str, str]
    values: dict[str, Any]  # already DynamoDB attribute values

    def kwargs(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ConditionExpression": self.expression, "ExpressionAttributeNames": self.names}
        if self.values:
            out["ExpressionAttributeValues"] = self.values
        return out


class Rule(NamedTuple):
    clauses: tuple[Clause, ...]

    def __and__(self, other: Rule | Clause) -> Rule:  # type: ignore[override]
        """Both rules; a clause already in this one adds nothing (a bulk chunk's many checks of one
        user item, ANDed, stay as short as the distinct ones: an expression holds 4 KB)."""
        clauses = list(self.clauses)
        for clause in other.clauses if isinstance(other, Rule) else (other,):
            if clause not in clauses:  # by value (a clause may hold a dict: not hashable)
                clauses.append(clause)
        return Rule(tuple(clauses))

    def holds(self, fields: Mapping[str, Any], **params: Any) -> bool:
        return all(c.holds(fields, params) for c in self.clauses)

    def condition(self, prefix: str = "r", **params: Any) -> Condition:
        """The rule as a ConditionExpression; placeholders are `#{prefix}N` / `:{prefix}N`, so the
        caller can join it with its own expression."""
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        parts = [c.render(f"{prefix}{i}", names, values, params) for i, c in enumerate(self.clauses)]
        return Condition(" AND ".join(parts), names, values)


def rule(*clauses: Clause) -> Rule:
    return Rule(tuple(clauses))
