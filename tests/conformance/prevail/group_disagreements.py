#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Groups the PREVAIL runner's disagreements for docs/PREVAIL.md.

usage: prevail_runner DIR | group_disagreements.py > listing.md
Every DISAGREE line lands in exactly one group (the first whose pattern matches); lines no
group explains end up under "Unexplained", which docs/PREVAIL.md must keep empty.
"""
import re
import sys

# (key, title, pattern on the runner's line). Order matters: first match wins.
GROUPS = [
    ("packet", "Packet pointers, packet_size, meta_offset in `pre`",
     r"cannot state it: pre: (.*packet|.*meta_offset)"),
    ("typeset", "A register of one of several types in `pre`", r"cannot state it: pre: a set of possible types"),
    ("relation", "Relations between registers in `pre`", r"cannot state it: pre: a relation between registers"),
    ("divreg", "Division or modulo by a register that may be zero", r"Possible division by zero"),
    ("divimm", "Division by a zero immediate, shifts by out-of-range immediates",
     r"sonde rejects: .*(div by zero|invalid shift)"),
    ("callx", "`callx`", r"callx|unknown opcode 8d"),
    ("ldabs", "Legacy packet loads (LD_ABS, LD_IND)", r"BPF_LD_\[ABS"),
    ("helper", "Helpers tracing programs cannot call, or with the wrong map",
     r"invalid func unknown#|cannot pass map_type"),
    ("ptr32", "32-bit copies of pointers", r"32-bit assign register"),
    ("ctx", "The context: read-only and aligned", r"bpf_context access"),
    ("calls", "bpf-to-bpf calls: frames, subprogram bounds, reachability",
     r"^calllocal\.yaml: .*(R[0-9] !read_ok|unreachable insn|jump out of range)"),
    ("observe", "PREVAIL's `observe` fixtures", r"^observe\.yaml"),
    ("mapref", "Map references: direct values and map indices", r"^map\.yaml"),
    ("movsx", "Reserved encodings", r"reserved fields"),
    ("stackframe", "Stack offsets outside the 512-byte frame", r"variable-offset (read from|write to) stack"),
    ("uninit", "Storing an uninitialised register", r"R[0-9] !read_ok"),
    ("precision", "Precision: path-sensitive versus relational analysis",
     r"Code becomes unreachable|multiple types add fail|map_fd1 < map_fd2|stack < number"),
]


def main():
    lines = [l.rstrip("\n") for l in sys.stdin if l.startswith("DISAGREE ")]
    grouped = {key: [] for key, _, _ in GROUPS}
    unexplained = []
    for line in lines:
        text = line[len("DISAGREE "):]
        for key, _, pattern in GROUPS:
            if re.search(pattern, text):
                grouped[key].append(text)
                break
        else:
            unexplained.append(text)
    for key, title, _ in GROUPS:
        if not grouped[key]:
            continue
        print(f"### {title} ({len(grouped[key])})\n")
        for text in grouped[key]:
            print(f"- {text}")
        print()
    print(f"### Unexplained ({len(unexplained)})\n")
    for text in unexplained:
        print(f"- {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
