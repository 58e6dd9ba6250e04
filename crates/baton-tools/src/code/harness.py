# Runs one code tool call: sets the limits, gives up root, reads the code and its params from
# stdin, and answers on the original stderr (a channel of its own): one marked JSON line,
# {"result": ...} or {"error": traceback}. What the code prints goes to stdout (stderr too).
import os, sys


def _baton_main():
    import json, resource

    conf = json.loads(sys.argv[1])
    for name, soft, hard in conf["rlimits"]:
        resource.setrlimit(getattr(resource, name), (soft, hard))
    uid = conf.get("uid")
    if uid is not None:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    job = json.loads(sys.stdin.buffer.read() or b"{}")
    channel = os.fdopen(os.dup(2), "w", encoding="utf-8")
    os.dup2(1, 2)
    del sys.argv[1:]
    params = job.get("params")
    scope = {"params": {} if params is None else params, "__name__": "__main__"}
    status = 0
    source = job.get("code", "")
    try:
        import linecache

        # Tracebacks show the code's lines, as they would from a file.
        linecache.cache["tool.py"] = (len(source), None, source.splitlines(True), "tool.py")
        exec(compile(source, "tool.py", "exec"), scope)
        answer = json.dumps({"result": scope.get("result")}, default=str)
    except Exception:
        import traceback

        kind, error, trace = sys.exc_info()
        # The harness's own frame is no news to the code's author.
        lines = traceback.format_exception(kind, error, trace.tb_next if trace else None)
        answer = json.dumps({"error": "".join(lines)})
        status = 1
    sys.stdout.flush()
    sys.stderr.flush()
    channel.write("\n\x1ebaton-answer " + answer)
    channel.close()
    sys.exit(status)


_baton_main()
