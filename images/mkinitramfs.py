#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Builds an initramfs: a cpio "newc" archive of files from the host, for the POSIX server.

usage: mkinitramfs.py OUTPUT.cpio [SPEC ...]

SPEC is one of:
  HOST:GUEST          the host file HOST at GUEST, with HOST's mode
  HOST:GUEST:MODE     ... with MODE (octal) instead
  --dir GUEST         an empty directory
  --symlink TARGET:GUEST
  --text GUEST:MODE:TEXT   a file holding TEXT (\\n for newlines)
  --busybox HOST      HOST as /bin/busybox, and a symlink for each applet it lists
                      (`HOST --list-full`), as Debian's busybox-static installs them

A dynamically linked HOST (an ELF with PT_INTERP) brings its loader and the shared libraries
it needs (DT_NEEDED, recursively, found where Debian's loader looks: DT_RUNPATH, then
/lib/x86_64-linux-gnu, /usr/lib/x86_64-linux-gnu, /lib, /usr/lib), each at its host path.

When glibc libraries come in, /etc/ld.so.cache lists them (made by the host's ldconfig over a
copy of just those libraries): the loader finds them as on Debian, and tools that look a
library up by its short name there (bcc's and bpftrace's `uprobe:libc:FUNC`) find it.

Parent directories are made as needed. Nothing here is committed: the archive is built from
files on the host at build time.
"""
import os
import shutil
import stat
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

LIBRARY_DIRS = ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib", "/usr/lib"]


def elf_dependencies(data: bytes):
    """(PT_INTERP path or None, DT_NEEDED names, DT_RUNPATH dirs) of an ELF64 file."""
    if data[:4] != b"\x7fELF" or data[4] != 2:
        return None, [], []
    phoff, = struct.unpack_from("<Q", data, 32)
    phentsize, phnum = struct.unpack_from("<HH", data, 54)
    loads, interp, dynamic = [], None, None
    for i in range(phnum):
        ptype, _, offset, vaddr, _, filesz, _, _ = struct.unpack_from("<IIQQQQQQ", data,
                                                                      phoff + i * phentsize)
        if ptype == 1:
            loads.append((vaddr, offset, filesz))
        elif ptype == 3:
            interp = data[offset:offset + filesz].split(b"\0")[0].decode()
        elif ptype == 2:
            dynamic = (offset, filesz)
    if dynamic is None:
        return interp, [], []

    def file_offset(vaddr):
        for start, offset, size in loads:
            if start <= vaddr < start + size:
                return offset + vaddr - start
        return None

    entries, strtab = [], None
    for at in range(dynamic[0], dynamic[0] + dynamic[1], 16):
        tag, value = struct.unpack_from("<qQ", data, at)
        if tag == 0:
            break
        if tag == 5:
            strtab = file_offset(value)
        entries.append((tag, value))
    if strtab is None:
        return interp, [], []

    def string(offset):
        return data[strtab + offset:data.index(b"\0", strtab + offset)].decode()

    needed = [string(v) for t, v in entries if t == 1]
    runpath = [d for t, v in entries if t in (15, 29) for d in string(v).split(":") if d]
    return interp, needed, runpath


def add_dependencies(archive, host: Path):
    """The loader and libraries a dynamic ELF needs, at their host paths."""
    interp, needed, runpath = elf_dependencies(host.read_bytes())
    if interp is None:
        return
    archive.add(interp, stat.S_IFREG | 0o755, Path(interp).read_bytes())
    pending, seen = list(needed), set()
    dirs = runpath + LIBRARY_DIRS
    while pending:
        name = pending.pop()
        if name in seen or ("ld-musl" in interp and name == "libc.so"):
            continue  # musl's loader is its libc
        seen.add(name)
        found = next((Path(d) / name for d in dirs if (Path(d) / name).is_file()), None)
        if found is None:
            raise SystemExit(f"mkinitramfs: {host} needs {name}, not found in {dirs}")
        data = found.read_bytes()
        archive.add(str(found), stat.S_IFREG | 0o755, data)
        pending.extend(elf_dependencies(data)[1])


def library_cache(archive) -> bytes:
    """/etc/ld.so.cache for the glibc libraries in `archive` (b"" when there are none, or when
    the host's ldconfig cannot make it: the loader then searches its default directories)."""
    libraries = [name for name, (mode, _) in archive.entries.items()
                 if stat.S_ISREG(mode) and ".so" in Path(name).name
                 and "/" + str(Path(name).parent) in LIBRARY_DIRS]
    ldconfig = shutil.which("ldconfig") or "/sbin/ldconfig"
    if not libraries or not any("libc.so.6" in name for name in libraries):
        return b""  # no glibc (musl's loader has no cache)
    with tempfile.TemporaryDirectory(prefix="mkinitramfs-") as root:
        for name in libraries:
            target = Path(root) / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.entries[name][1])
        (Path(root) / "etc").mkdir(exist_ok=True)
        (Path(root) / "etc/ld.so.conf").write_text("\n".join(LIBRARY_DIRS) + "\n")
        done = subprocess.run([ldconfig, "-r", root, "-C", "/etc/ld.so.cache",
                               "-f", "/etc/ld.so.conf"], stderr=subprocess.PIPE, text=True)
        cache = Path(root) / "etc/ld.so.cache"
        if done.returncode != 0 or not cache.is_file():
            print(f"mkinitramfs: no /etc/ld.so.cache (ldconfig: {done.stderr.strip()})",
                  file=sys.stderr)
            return b""
        return cache.read_bytes()


class Archive:
    def __init__(self):
        self.entries = {}  # guest path -> (mode, data)

    def add_dirs(self, guest: str):
        parts = guest.strip("/").split("/")[:-1]
        for i in range(1, len(parts) + 1):
            path = "/".join(parts[:i])
            self.entries.setdefault(path, (stat.S_IFDIR | 0o755, b""))

    def add(self, guest: str, mode: int, data: bytes):
        guest = guest.strip("/")
        self.add_dirs(guest)
        self.entries[guest] = (mode, data)

    def write(self, output: Path):
        out = bytearray()
        inode = 1

        def entry(name: str, mode: int, data: bytes):
            nonlocal inode
            encoded = name.encode() + b"\0"
            fields = [inode, mode, 0, 0, 2 if stat.S_ISDIR(mode) else 1, 0, len(data),
                      0, 0, 0, 0, len(encoded), 0]
            out.extend(b"070701" + b"".join(f"{f:08x}".encode() for f in fields))
            out.extend(encoded)
            out.extend(b"\0" * (-len(out) % 4))
            out.extend(data)
            out.extend(b"\0" * (-len(out) % 4))
            inode += 1

        for name in sorted(self.entries):
            mode, data = self.entries[name]
            entry(name, mode, data)
        entry("TRAILER!!!", 0, b"")
        output.write_bytes(bytes(out))


def main() -> int:
    args = sys.argv[1:]
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    output = Path(args.pop(0))
    archive = Archive()
    while args:
        spec = args.pop(0)
        if spec == "--dir":
            archive.add(args.pop(0), stat.S_IFDIR | 0o755, b"")
        elif spec == "--symlink":
            target, _, guest = args.pop(0).partition(":")
            archive.add(guest, stat.S_IFLNK | 0o777, target.encode())
        elif spec == "--text":
            guest, mode, text = args.pop(0).split(":", 2)
            archive.add(guest, stat.S_IFREG | int(mode, 8), text.replace("\\n", "\n").encode())
        elif spec == "--busybox":
            host = Path(args.pop(0))
            archive.add("bin/busybox", stat.S_IFREG | 0o755, host.read_bytes())
            listing = subprocess.run([str(host), "--list-full"], check=True,
                                     stdout=subprocess.PIPE, text=True).stdout
            for applet in listing.split():
                if applet.strip("/") == "bin/busybox":
                    continue
                archive.add(applet, stat.S_IFLNK | 0o777, b"/bin/busybox")
        else:
            parts = spec.split(":")
            if len(parts) not in (2, 3):
                print(f"mkinitramfs: bad spec {spec!r}", file=sys.stderr)
                return 2
            host = Path(parts[0])
            mode = int(parts[2], 8) if len(parts) == 3 else stat.S_IMODE(os.stat(host).st_mode)
            archive.add(parts[1], stat.S_IFREG | mode, host.read_bytes())
            add_dependencies(archive, host)
    cache = library_cache(archive)
    if cache:
        archive.add("etc/ld.so.cache", stat.S_IFREG | 0o644, cache)
    archive.write(output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
