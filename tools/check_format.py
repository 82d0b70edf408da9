#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Fails when a C or C++ source file in the repository differs from what the repository's
# .clang-format makes of it, or does not start with an SPDX licence line; names each such file
# and says how to fix it.
import pathlib
import shutil
import subprocess
import sys

EXTENSIONS = (".c", ".cpp", ".h", ".hpp")


def tracked_sources(root: pathlib.Path) -> list[str]:
    out = subprocess.run(["git", "-C", str(root), "ls-files", "-z"], capture_output=True,
                         check=True).stdout.decode()
    return [name for name in out.split("\0") if name.endswith(EXTENSIONS)]


def main() -> int:
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    tool = shutil.which("clang-format")
    if tool is None:
        print("format: clang-format is not installed (tools/setup installs it)")
        return 1
    if not (root / ".clang-format").is_file():
        print(f"format: no .clang-format in {root}")
        return 1
    files = tracked_sources(root)
    unlicensed = [name for name in files
                  if "SPDX-License-Identifier:" not in (root / name).read_text(errors="replace")
                  .split("\n", 1)[0]]
    for name in unlicensed:
        print(f"format: {name} does not start with '// SPDX-License-Identifier: MIT'")
    differing = []
    for start in range(0, len(files), 200):
        batch = files[start:start + 200]
        result = subprocess.run([tool, "--dry-run", "--Werror", "--style=file", *batch],
                                cwd=root, capture_output=True, text=True)
        if result.returncode != 0:
            for line in result.stderr.splitlines():
                if ": error:" in line:
                    name = line.split(":", 1)[0]
                    if name not in differing:
                        differing.append(name)
    if differing or unlicensed:
        for name in differing:
            print(f"format: {name} differs from .clang-format")
        print(f"format: {len(differing)} of {len(files)} files differ, {len(unlicensed)} lack "
              f"the SPDX line; fix with clang-format -i --style=file FILE")
        return 1
    print(f"format: {len(files)} files match .clang-format")
    return 0


if __name__ == "__main__":
    sys.exit(main())
