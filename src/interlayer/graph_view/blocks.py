"""Blocks of a graph for the HTML view: nodes grouped by the prefixes of their names.

``layer1.0.conv1`` sits in ``layer1.0``, itself in ``layer1`` (PyTorch module paths); ``conv2_block1_1_conv`` in
``conv2_block1_1``, ``conv2_block1`` and ``conv2`` (Keras's names); ``/encoder/layer.0/attention/MatMul`` in
``/encoder/layer.0/attention`` and above (ONNX's). A prefix ends where a name has ``.``, ``/`` or ``_``.

A prefix is a block when it holds at least two nodes and fewer than all, and when the nodes it holds are
*convex*: no path leaves them and comes back. Folding a convex block into one box keeps the drawing a flow from
inputs to outputs; names that only look alike (``re_lu``, ``re_lu_1``, ``re_lu_2`` spread along a Sequential
model; ``add``, ``add_1`` in a traced one) are never folded into a box that feeds itself. Of prefixes holding the
same nodes (``re`` and ``re_lu``) the longest names the block. Two prefixes' blocks are nested or apart, never
overlapping: a name in both starts with both, so one prefix starts with the other.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

SEPARATOR = re.compile(r"[./_]")


@dataclass
class Block:
    name: str
    members: list[int]                    # node indices, ascending (topological order)
    parent: int = -1                      # index of the enclosing block in the list, -1 at the top
    depth: int = 0
    children: list[int] = field(default_factory=list)


def find_blocks(names: list[str], edges: list[tuple[int, int]]) -> tuple[list[Block], list[int]]:
    """The blocks of nodes ``names`` (in topological order) joined by ``edges`` (producer index, consumer index),
    in the order of their first node, a block before those inside it; and for each node, the index of the
    innermost block holding it (-1 for none)."""
    successors: list[list[int]] = [[] for _ in names]
    for source, target in edges:
        successors[source].append(target)
    candidates = _prefixes(names)
    kept: dict[frozenset[int], str] = {}
    for prefix in sorted(candidates, key=len):  # the longest prefix of a member set is kept
        members = candidates[prefix]
        if 2 <= len(members) < len(names) and _convex(members, successors):
            kept[frozenset(members)] = prefix
    blocks = sorted((Block(prefix, sorted(members)) for members, prefix in kept.items()),
                    key=lambda block: (-len(block.members), block.members[0], block.name))
    innermost = [-1] * len(names)
    for index, block in enumerate(blocks):  # larger first; prefixes nest, so the smallest block met so far
        block.parent = innermost[block.members[0]]  # holding a member holds them all
        for member in block.members:
            innermost[member] = index
    return _in_flow_order(blocks, innermost)


def _in_flow_order(blocks: list[Block], innermost: list[int]) -> tuple[list[Block], list[int]]:
    """Blocks by their first node (a block before the blocks inside it), indices renumbered; depths and
    children set."""
    ranked = sorted(range(len(blocks)), key=lambda i: (blocks[i].members[0], -len(blocks[i].members)))
    number = {old: new for new, old in enumerate(ranked)}
    ordered = [blocks[i] for i in ranked]
    for index, block in enumerate(ordered):
        block.parent = number.get(block.parent, -1)
        block.depth = 0 if block.parent == -1 else ordered[block.parent].depth + 1
        if block.parent != -1:
            ordered[block.parent].children.append(index)
    return ordered, [number.get(block, -1) for block in innermost]


def _prefixes(names: list[str]) -> dict[str, set[int]]:
    """Each prefix of a name that ends at a separator, with the nodes whose names start with it (or are it)."""
    found: dict[str, set[int]] = {}
    for index, name in enumerate(names):
        for match in SEPARATOR.finditer(name):
            if match.start() > 0:
                found.setdefault(name[:match.start()], set()).add(index)
    for index, name in enumerate(names):
        if name in found:
            found[name].add(index)
    return found


def _convex(members: set[int], successors: list[list[int]]) -> bool:
    """No path from a member through other nodes back to a member. Nodes are in topological order, so a path
    back can only pass through nodes before the last member."""
    last = max(members)
    seen: set[int] = set()
    frontier = [t for m in members for t in successors[m] if t not in members and t < last]
    while frontier:
        node = frontier.pop()
        if node in seen:
            continue
        seen.add(node)
        for target in successors[node]:
            if target in members:
                return False
            if target < last and target not in seen:
                frontier.append(target)
    return True
