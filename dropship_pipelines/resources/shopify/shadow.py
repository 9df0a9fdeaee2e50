"""Shadow mode's Shopify answers: a mutation shadow mode recorded, answered as Shopify would have.

The answer is made from the operation's own selection set (graphql-core parses it), filled from the
mutation's variables: the objects a mutation creates get synthetic GIDs made from the write's key
(`shadow:shopify.<Type>:<ref>`, the n-th of a list `...<ref>.<n>`), the objects it changes keep the GIDs
the variables name, `userErrors` are empty. So `productSet` answers the product and one variant per input
variant with its SKU, `fulfillmentCreate` a fulfillment with the tracking it was given. A query that names
a synthetic GID (the listing's state, a shadow fulfillment) is answered the same way from the write that
made the id (`write_gate.minting_write`), never sent: Shopify has no such object.
"""

import re
from datetime import UTC, datetime
from typing import Any

from graphql import parse
from graphql.language import FieldNode, InlineFragmentNode, OperationDefinitionNode, SelectionSetNode

from dropship_pipelines.resources.write_gate import Shadowed, minting_write, shadow_ids

# Scalars no variable carries, as Shopify answers them for a write that succeeded.
DEFAULTS: dict[str, Any] = {
    "done": True,
    "heldByRequestingApp": True,
    "format": "JSON",
    "currencyCode": "USD",
    "tracked": False,  # a variant's inventory item, untracked unless its input tracks it
}
STATUS_AFTER = {  # `status` of the object a mutation answers, when its variables do not say it
    "fulfillmentCreate": "SUCCESS",
    "fulfillmentTrackingInfoUpdate": "SUCCESS",
    "fulfillmentOrderHold": "ON_HOLD",
    "fulfillmentOrderReleaseHold": "OPEN",
}


def _type_name(field: str, *, plural: bool = False) -> str:
    name = field[:1].upper() + field[1:]
    if plural and name.endswith("s") and not name.endswith("ss"):
        name = name[:-1]
    return name


def _candidates(field: str) -> list[str]:
    """The variable keys that may carry a field: itself, without its leading word, as a `...Input`."""
    words = re.findall(r"[a-z]+|[A-Z][a-z]*", field)
    tail = "".join(words[1:])
    keys = [field, f"{field}Input"]
    if tail:
        keys.append(tail[:1].lower() + tail[1:])
    return keys


def _find(value: Any, keys: list[str]) -> Any:
    """The first value under one of `keys`, anywhere in `value` (breadth first)."""
    queue = [value]
    while queue:
        current = queue.pop(0)
        if isinstance(current, dict):
            for key in keys:
                if key in current and current[key] is not None:
                    return current[key]
            queue.extend(current.values())
        elif isinstance(current, list):
            queue.extend(current)
    return None


def _gid_in(value: Any, type_name: str) -> str | None:
    """A GID (real or synthetic) of this type somewhere in the variables: the object a mutation changes."""
    pattern = re.compile(rf"^(gid://shopify/{type_name}/|shadow:shopify\.{type_name}:)")
    queue = [value]
    while queue:
        current = queue.pop(0)
        if isinstance(current, str) and pattern.match(current):
            return current
        if isinstance(current, dict):
            queue.extend(current.values())
        elif isinstance(current, list):
            queue.extend(current)
    return None


class _Answer:
    def __init__(self, variables: dict[str, Any], shadowed: Shadowed | None, root_field: str) -> None:
        self.variables = variables
        self.shadowed = shadowed
        self.root_field = root_field

    def new_id(self, type_name: str, n: int | None) -> str | None:
        return self.shadowed.id(f"shopify.{type_name}", n) if self.shadowed else None

    def fields(self, selection: SelectionSetNode) -> list[tuple[FieldNode, str | None]]:
        out: list[tuple[FieldNode, str | None]] = []
        for node in selection.selections:
            if isinstance(node, FieldNode):
                out.append((node, None))
            elif isinstance(node, InlineFragmentNode):
                condition = node.type_condition.name.value if node.type_condition else None
                out += [(f, condition) for f, _ in self.fields(node.selection_set)]
        return out

    def obj(
        self, selection: SelectionSetNode, source: Any, type_name: str, n: int | None, top: bool
    ) -> dict[str, Any]:
        source = source if isinstance(source, dict) else {}
        out: dict[str, Any] = {}
        for node, condition in self.fields(selection):
            name, key = node.name.value, (node.alias.value if node.alias else node.name.value)
            own_type = condition or type_name
            if name == "userErrors" or name.endswith("UserErrors"):
                out[key] = []
            elif name == "__typename":
                out[key] = own_type
            elif node.selection_set is not None:
                out[key] = self.child(node, source, top)
            elif name == "id":
                out[key] = (
                    source.get("id")
                    or (_gid_in(self.variables, own_type) if n is None else None)
                    or self.new_id(own_type, n)
                )
            elif name in source:
                out[key] = source[name]
            elif name == "status" and top and self.root_field in STATUS_AFTER:
                out[key] = STATUS_AFTER[self.root_field]
            elif name in ("createdAt", "updatedAt"):
                out[key] = datetime.now(UTC).isoformat().replace("+00:00", "Z")
            else:
                # Deep in the variables only for the mutation's own object: an item of a list takes only
                # what its own input says (another variant's `tracked` is not this one's).
                found = _find(self.variables, [name]) if top else None
                scalar = found is not None and not isinstance(found, dict | list)
                out[key] = found if scalar else DEFAULTS.get(name)
        return out

    def child(self, node: FieldNode, source: dict[str, Any], top: bool) -> Any:
        name = node.name.value
        assert node.selection_set is not None
        sub = {f.name.value for f, _ in self.fields(node.selection_set)}
        value = _find(source, _candidates(name)) if source else None
        if value is None and top:
            value = _find(self.variables, _candidates(name))
        listed = bool(node.arguments and any(a.name.value in ("first", "last") for a in node.arguments))
        if "nodes" in sub or "edges" in sub:  # a connection: one node per item the variables list
            items = value if isinstance(value, list) else []
            node_sel = next(
                f for f, _ in self.fields(node.selection_set) if f.name.value in ("nodes", "edges")
            )
            type_name = _type_name(name, plural=True)
            selection = node_sel.selection_set
            made = [self.obj(selection, item, type_name, i, False) for i, item in enumerate(items)]
            if node_sel.name.value == "edges":
                return {"edges": [{"node": m.get("node", m)} for m in made]}
            return {"nodes": made}
        if value is None and name.endswith("s") and not name.endswith("ss"):
            return []  # a list (holds, assessments) the variables say nothing of: none
        if isinstance(value, list) or listed:
            items = value if isinstance(value, list) else ([value] if isinstance(value, dict) else [])
            type_name = _type_name(name, plural=True)
            return [self.obj(node.selection_set, item, type_name, i, False) for i, item in enumerate(items)]
        return self.obj(node.selection_set, value, _type_name(name), None, top)


def _operation(query: str) -> OperationDefinitionNode:
    document = parse(query)
    return next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))


def mutation_answer(query: str, variables: dict[str, Any], shadowed: Shadowed) -> dict[str, Any]:
    """The `data` Shopify would have answered the recorded mutation with."""
    data: dict[str, Any] = {}
    for root in _operation(query).selection_set.selections:
        if not isinstance(root, FieldNode) or root.selection_set is None:
            continue
        answer = _Answer(variables, shadowed, root.name.value)
        key = root.alias.value if root.alias else root.name.value
        data[key] = answer.obj(root.selection_set, variables, "", None, True)
    return data


def read_answer(query: str, variables: dict[str, Any]) -> dict[str, Any]:
    """A query naming a synthetic GID, answered from the write that made it (null when none did)."""
    found = shadow_ids(variables)
    made = minting_write(found[0]) if found else None
    data: dict[str, Any] = {}
    for root in _operation(query).selection_set.selections:
        if not isinstance(root, FieldNode) or root.selection_set is None:
            continue
        key = root.alias.value if root.alias else root.name.value
        if made is None:
            data[key] = None
            continue
        shadowed = Shadowed(made["write_key"], made["shadow_ref"])
        # The object as its write described it, under the id the query asked for.
        source = {**(made["summary"] or {}), **variables}
        answer = _Answer(source, shadowed, root.name.value)
        described = _find(source, ["input", root.name.value]) or {}
        data[key] = answer.obj(root.selection_set, described, _type_name(root.name.value), None, True)
        if isinstance(data[key], dict):
            data[key]["id"] = found[0]
    return data
