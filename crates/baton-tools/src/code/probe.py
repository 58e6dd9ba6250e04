# Asks the interpreter what it needs to run: its executable, the directories of its standard
# library and site packages, the directories of the shared libraries it and the standard
# library's extension modules load, and the program interpreter (dynamic loader) of its binary.
import json, os, struct, sys, warnings

warnings.simplefilter("ignore")


def elf_interpreter(path):
    try:
        with open(path, "rb") as f:
            head = f.read(64)
            if head[:4] != b"\x7fELF" or head[4] != 2 or head[5] != 1:
                return None
            phoff = struct.unpack_from("<Q", head, 32)[0]
            size, count = struct.unpack_from("<HH", head, 54)
            for i in range(count):
                f.seek(phoff + i * size)
                ph = f.read(56)
                if struct.unpack_from("<I", ph, 0)[0] == 3:
                    offset = struct.unpack_from("<Q", ph, 8)[0]
                    length = struct.unpack_from("<Q", ph, 32)[0]
                    f.seek(offset)
                    return f.read(length).split(b"\0")[0].decode()
    except (OSError, struct.error, UnicodeDecodeError):
        return None
    return None


for entry in list(sys.path):
    if entry.endswith("lib-dynload") and os.path.isdir(entry):
        for name in sorted(os.listdir(entry)):
            if name.endswith(".so"):
                try:
                    __import__(name.split(".")[0])
                except BaseException:
                    pass

executable = os.path.realpath(sys.executable)
libraries = set()
with open("/proc/self/maps") as maps:
    for line in maps:
        parts = line.split(None, 5)
        if len(parts) == 6 and parts[5].startswith("/"):
            path = parts[5].strip()
            if ".so" in os.path.basename(path) and path != executable and os.path.exists(path):
                libraries.add(path)

directories = [p for p in sys.path if os.path.isdir(p)]
files = [sys.executable]
if sys.prefix != sys.base_prefix:
    files.append(os.path.join(sys.prefix, "pyvenv.cfg"))
interpreter = elf_interpreter(executable)
if interpreter:
    files.append(interpreter)
print(json.dumps({
    "executable": sys.executable,
    "files": files,
    "directories": directories + sorted({os.path.dirname(p) for p in libraries}),
}))
