#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Read what a lab run brought back and judge it.

  report.py summary OUTDIR [--trace NAME.dat ...]
      Per-test result (pass/skip/fail, seconds, retries), KUnit totals,
      kernel reports on the console, and events recorded per type.
      Exit 1 when a step failed (unless --allow-fail), KUnit failed, or the
      console carries a WARN/BUG/lockdep/KASAN/UBSAN report.

  report.py verdicts PATCHED_OUTDIR BASE_OUTDIR EXPECTED_FAILURES
      One PASS/SKIP/FAIL line per step of the patched run, for make check.

  report.py splats OUTDIR / report.py kunit OUTDIR
      Exit 1 on a kernel report on the console / on a failed or missing
      KUnit run.

  report.py events OUTDIR RULES
      Check the events recorded in OUTDIR's trace.dat files against RULES
      (scripts/lab/event-checks: how many of each event a scenario must
      produce and what its fields must hold); one line per rule.  Rules
      for events that only VMX or VT-d hardware fires check that the
      event is compiled into the kernel and report "needs VMX".

  report.py compare BASE_OUTDIR PATCHED_OUTDIR EXPECTED_FAILURES
      The regression rule for the upstream suite: a test that passes on
      the base kernel and does not pass on the patched kernel fails the
      check.  A test that fails on both must be listed, with its reason,
      in EXPECTED_FAILURES; an unlisted one fails the check too, so that
      nothing is skipped silently.

Outputs are plain text for people; `summary --json` adds a JSON file.
"""

import argparse
import json
import os
import re
import subprocess
import sys

# Console lines that mean the kernel reported a bug.  Each is anchored on
# the kernel's own wording (lib/bug.c, kernel/panic.c, lockdep, KASAN,
# UBSAN, the atomic-sleep and RCU checkers).
SPLAT_PATTERNS = [
    (re.compile(r"WARNING: CPU: \d+ PID: \d+ at "), "WARN"),
    (re.compile(r"\bkernel BUG at "), "BUG"),
    (re.compile(r"\bBUG: (?!KASAN)"), "BUG"),
    (re.compile(r"\bBUG: KASAN: "), "KASAN"),
    (re.compile(r"UBSAN: "), "UBSAN"),
    (re.compile(r"WARNING: possible (circular|recursive) locking"), "lockdep"),
    (re.compile(r"WARNING: (inconsistent lock state|suspicious RCU usage|"
                r"possible irq lock inversion|lock held when returning)"),
     "lockdep"),
    (re.compile(r"INFO: (possible recursive locking|task .* blocked for more)"),
     "hung/lockdep"),
    (re.compile(r"Kernel panic - not syncing"), "panic"),
    (re.compile(r"\bOops: "), "Oops"),
    (re.compile(r"watchdog: BUG: soft lockup"), "soft lockup"),
]

TAP_RE = re.compile(r"^(not ok|ok) (\d+) (\S+)(?: # (SKIP|TIMEOUT|exit)\b ?(.*))?$")
EVENT_RE = re.compile(r"\s\d+\.\d+:\s+([A-Za-z_][\w]*):")


def parse_tap(text):
    """TAP lines of the guest runner -> {name: (status, detail)}, retries.

    status is one of pass, skip, fail.
    """
    results = {}
    retries = []
    for line in text.splitlines():
        line = line.rstrip()
        if line.startswith("# retry"):
            retries.append(line[2:])
            continue
        m = TAP_RE.match(line)
        if not m:
            continue
        ok, _, name, directive, detail = m.groups()
        if ok == "ok" and directive == "SKIP":
            results[name] = ("skip", detail or "")
        elif ok == "ok":
            results[name] = ("pass", "")
        else:
            results[name] = ("fail", ((directive or "") + " " + (detail or "")).strip())
    return results, retries


def parse_times(text):
    times = {}
    for line in text.splitlines():
        f = line.split()
        if len(f) == 4:
            times[f[0]] = (float(f[1]), int(f[2]), int(f[3]))
    return times


def parse_kunit(text):
    """Totals of a KTAP report: sum of the top-level suites' results."""
    passed = failed = skipped = 0
    suites = []
    for line in text.splitlines():
        m = re.match(r"^(not ok|ok) \d+ (\S+)(.*)$", line)
        if not m:
            continue
        if "# SKIP" in m.group(3):
            skipped += 1
        elif m.group(1) == "ok":
            passed += 1
        else:
            failed += 1
        suites.append((m.group(2), m.group(1)))
    return {"suites": suites, "passed": passed, "failed": failed,
            "skipped": skipped}


def find_splats(console):
    found = []
    for lineno, line in enumerate(console.splitlines(), 1):
        for pat, kind in SPLAT_PATTERNS:
            if pat.search(line):
                found.append((lineno, kind, line.strip()[:160]))
                break
    return found


def count_events(report_text):
    counts = {}
    for line in report_text.splitlines():
        m = EVENT_RE.search(line)
        if m:
            counts[m.group(1)] = counts.get(m.group(1), 0) + 1
    return counts


def trace_event_counts(path):
    """Events per type in a trace.dat, through `trace-cmd report`."""
    try:
        out = subprocess.run(["trace-cmd", "report", "-q", path],
                             capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        return {"<error>": str(e)}
    return count_events(out)


RAW_RE = re.compile(r"^\s*(\S.*?)-(\d+)\s+\[(\d+)\]\s+(\d+\.\d+):\s+(\w+):\s*(.*)$")
FIELD_RE = re.compile(r"(\w+)=(\S*)")
RULE_RE = re.compile(r"^(\S+)\s+(\w+)(?:\[([^\]]*)\])?\s+(>=\d+|==\d+|vmx)\s*(?:\|\s*(.*))?$")
COND_RE = re.compile(r"^(\w+)(==|!=|<=|>=|<|>)(\S+)$")
OPS = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b,
       "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
       ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}


def parse_value(text):
    try:
        return int(text, 0)
    except ValueError:
        return text


def raw_events(path):
    """(event, {field: value}) for each record of a trace.dat, from
    `trace-cmd report -R` (fields as recorded, not as printed)."""
    out = subprocess.run(["trace-cmd", "report", "-R", "-q", path],
                         capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        m = RAW_RE.match(line)
        if not m:
            continue
        fields = {k: parse_value(v) for k, v in FIELD_RE.findall(m.group(6))}
        fields["common_cpu"] = int(m.group(3))
        yield m.group(5), fields


def stored_events(path):
    """The system:event formats a trace.dat carries (compiled into the
    kernel that recorded it, for every system it recorded)."""
    out = subprocess.run(["trace-cmd", "report", "-E", path],
                         capture_output=True, text=True, check=True).stdout
    return {line.split(":", 1)[1] for line in out.split() if ":" in line}


def parse_conds(text):
    conds = []
    for tok in (text or "").replace(",", " ").split():
        m = COND_RE.match(tok)
        if not m:
            raise ValueError(f"bad condition '{tok}'")
        conds.append((m.group(1), m.group(2), parse_value(m.group(3))))
    return conds


def cond_holds(fields, cond):
    name, op, want = cond
    if name not in fields:
        return False
    have = fields[name]
    if isinstance(want, int) != isinstance(have, int):
        return False
    return OPS[op](have, want)


def parse_rules(text):
    """RULES lines: TRACE EVENT[FILTER] COUNT [| CONDITION...]"""
    rules = []
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        m = RULE_RE.match(line)
        if not m:
            raise ValueError(f"rules line {lineno}: cannot parse '{line}'")
        rules.append({"line": lineno, "trace": m.group(1), "event": m.group(2),
                      "filter": parse_conds(m.group(3)), "count": m.group(4),
                      "conds": parse_conds(m.group(5))})
    return rules


def check_rule(rule, events, stored):
    """Returns (status, detail): status is PASS, FAIL or VMX."""
    ev = rule["event"]
    if rule["count"] == "vmx":
        if ev in stored:
            return "VMX", "compiled in; fires only with VMX/VT-d posting"
        return "FAIL", "not in the kernel's event list"
    matched = [f for e, f in events if e == ev and
               all(cond_holds(f, c) for c in rule["filter"])]
    bad = [f for f in matched if not all(cond_holds(f, c) for c in rule["conds"])]
    n, want = len(matched), int(rule["count"][2:])
    ok = n >= want if rule["count"].startswith(">=") else n == want
    detail = f"{n} events (want {rule['count']})"
    if bad:
        first = bad[0]
        failed = [f"{c[0]}{c[1]}{c[2]}" for c in rule["conds"]
                  if not cond_holds(first, c)]
        detail += (f", {len(bad)} break {' '.join(failed)}: "
                   + " ".join(f"{k}={v}" for k, v in first.items()))
    return ("PASS" if ok and not bad else "FAIL"), detail


def cmd_events(args):
    rules = parse_rules(read(args.rules))
    cache = {}
    failed = 0
    for r in rules:
        path = os.path.join(args.outdir, r["trace"])
        name = f"{r['event']}" + (f"[{' '.join(f'{a}{o}{v}' for a, o, v in r['filter'])}]"
                                  if r["filter"] else "")
        if path not in cache:
            try:
                cache[path] = (list(raw_events(path)), stored_events(path))
            except (OSError, subprocess.CalledProcessError) as e:
                cache[path] = e
        if isinstance(cache[path], Exception):
            status, detail = "FAIL", f"cannot read {r['trace']}: {cache[path]}"
        else:
            status, detail = check_rule(r, *cache[path])
        failed += status == "FAIL"
        if status == "VMX":
            status, detail = "SKIP", "needs VMX: " + detail
        print(f"{status} event {r['trace']}: {name}: {detail}")
    return 1 if failed else 0


def read(path, default=""):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return default


def load_run(outdir):
    results, retries = parse_tap(read(os.path.join(outdir, "tap.txt")))
    return {
        "results": results,
        "retries": retries,
        "times": parse_times(read(os.path.join(outdir, "times.txt"))),
        "kunit": parse_kunit(read(os.path.join(outdir, "kunit.txt"))),
        "splats": find_splats(read(os.path.join(outdir, "console.log"))),
        "boot_retries": read(os.path.join(outdir, "boot-retries")).splitlines(),
    }


def cmd_summary(args):
    run = load_run(args.outdir)
    res = run["results"]
    width = max([len(n) for n in res] + [10])
    print(f"lab run {args.outdir}:")
    for name, (status, detail) in res.items():
        secs, _, tries = run["times"].get(name, (0.0, 0, 0))
        extra = f"  [{tries} retr{'y' if tries == 1 else 'ies'}]" if tries else ""
        print(f"  {status.upper():4}  {name:{width}}  {secs:7.1f} s  {detail[:70]}{extra}")
    for r in run["retries"]:
        print(f"  note: {r}")
    for r in run["boot_retries"]:
        print(f"  note: {r}")
    k = run["kunit"]
    print(f"  KUnit: {k['passed']} suites passed, {k['failed']} failed, "
          f"{k['skipped']} skipped")
    counts = {s: sum(1 for v in res.values() if v[0] == s)
              for s in ("pass", "skip", "fail")}
    print(f"  selftests: {counts['pass']} pass, {counts['skip']} skip, "
          f"{counts['fail']} fail")
    traces = {}
    for t in args.trace or []:
        path = os.path.join(args.outdir, t)
        traces[t] = trace_event_counts(path) if os.path.exists(path) else {}
        total = sum(v for v in traces[t].values() if isinstance(v, int))
        print(f"  {t}: {total} events")
        for ev, n in sorted(traces[t].items(), key=lambda kv: (-kv[1], kv[0])
                            if isinstance(kv[1], int) else (0, kv[0])):
            print(f"    {ev:28} {n}")
    if run["splats"]:
        print(f"  kernel reports on the console ({len(run['splats'])}):")
        for lineno, kind, line in run["splats"][:20]:
            print(f"    console.log:{lineno}: {kind}: {line}")
    else:
        print("  kernel reports on the console: none")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"results": res, "times": run["times"], "kunit": k,
                       "splats": run["splats"], "traces": traces,
                       "retries": run["retries"] + run["boot_retries"]},
                      f, indent=1, sort_keys=True)
    bad = bool(run["splats"]) or k["failed"] > 0
    if counts["fail"] and not args.allow_fail:
        bad = True
    if args.require_trace:
        for t in args.trace or []:
            if not traces.get(t) or "<error>" in traces[t]:
                print(f"  error: {t} holds no events")
                bad = True
    return 1 if bad else 0


def parse_expected(text):
    """EXPECTED_FAILURES: 'name  # reason' lines; the reason is required."""
    xfail = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, _, reason = line.partition("#")
        name = name.strip()
        if not reason.strip():
            raise ValueError(f"expected failure '{name}' has no reason")
        xfail[name] = reason.strip()
    return xfail


def compare(base, patched, xfail, tests=None):
    """-> (regressions, unlisted, listed, fixed) lists of (name, why)."""
    regressions, unlisted, listed, fixed = [], [], [], []
    names = tests if tests is not None else sorted(set(base) | set(patched))
    for name in names:
        b = base.get(name, ("missing", ""))[0]
        p = patched.get(name, ("missing", ""))[0]
        if b == "pass" and p != "pass":
            regressions.append((name, f"passes on base, {p} on patched: "
                                      f"{patched.get(name, ('', ''))[1]}"))
        elif b in ("fail", "missing") and p in ("fail", "missing"):
            if name in xfail:
                listed.append((name, xfail[name]))
            else:
                unlisted.append((name, f"fails on base ({base.get(name, ('', ''))[1]}) "
                                       f"and patched ({patched.get(name, ('', ''))[1]})"))
        elif b != "pass" and p == "pass":
            fixed.append((name, f"{b} on base, passes on patched"))
    return regressions, unlisted, listed, fixed


def cmd_compare(args):
    base, _ = parse_tap(read(os.path.join(args.base, "tap.txt")))
    patched, _ = parse_tap(read(os.path.join(args.patched, "tap.txt")))
    if not base or not patched:
        print("compare: a run has no results", file=sys.stderr)
        return 1
    xfail = parse_expected(read(args.expected))
    tests = None
    if args.tests:
        tests = [t for t in read(args.tests).split() if t]
    reg, unl, lst, fixed = compare(base, patched, xfail, tests)
    print(f"upstream suite, base vs patched: {len(tests or base)} tests, "
          f"{len(reg)} regressions, {len(unl)} unlisted failures, "
          f"{len(lst)} expected failures")
    for name, why in reg:
        print(f"  REGRESSION  {name}: {why}")
    for name, why in unl:
        print(f"  UNLISTED    {name}: {why}")
    for name, why in lst:
        print(f"  XFAIL       {name}: {why}")
    for name, why in fixed:
        print(f"  note        {name}: {why}")
    stale = sorted(n for n in xfail if n in patched and patched[n][0] != "fail"
                   and n in base and base[n][0] != "fail")
    for name in stale:
        print(f"  note        {name} is listed as an expected failure but passed or "
              f"skipped on both")
    return 1 if reg or unl else 0


def verdicts(patched, base, xfail):
    """One PASS/SKIP/FAIL line per step of the patched run.  A failure
    counts as skipped only when it is a listed expected failure that did
    not pass on the base kernel either."""
    lines = []
    for name, (status, detail) in patched.items():
        if status == "pass":
            lines.append(f"PASS selftest {name}")
        elif status == "skip":
            lines.append(f"SKIP selftest {name}: {detail}")
        elif name in xfail and base.get(name, ("fail",))[0] != "pass":
            lines.append(f"SKIP selftest {name}: expected failure under TCG: {xfail[name]}")
        else:
            lines.append(f"FAIL selftest {name}: {detail}")
    return lines


def cmd_verdicts(args):
    patched, _ = parse_tap(read(os.path.join(args.patched, "tap.txt")))
    base, _ = parse_tap(read(os.path.join(args.base, "tap.txt")))
    for line in verdicts(patched, base, parse_expected(read(args.expected))):
        print(line)
    return 0


def cmd_splats(args):
    splats = find_splats(read(os.path.join(args.outdir, "console.log")))
    for lineno, kind, line in splats[:20]:
        print(f"    console.log:{lineno}: {kind}: {line}")
    return 1 if splats else 0


def cmd_kunit(args):
    k = parse_kunit(read(os.path.join(args.outdir, "kunit.txt")))
    print(f"    KUnit: {k['passed']} suites passed, {k['failed']} failed, "
          f"{k['skipped']} skipped")
    return 0 if k["passed"] and not k["failed"] else 1


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("summary")
    s.add_argument("outdir")
    s.add_argument("--trace", action="append")
    s.add_argument("--require-trace", action="store_true")
    s.add_argument("--allow-fail", action="store_true")
    s.add_argument("--json")
    c = sub.add_parser("compare")
    c.add_argument("base")
    c.add_argument("patched")
    c.add_argument("expected")
    c.add_argument("--tests", help="file listing the tests to compare")
    v = sub.add_parser("verdicts")
    v.add_argument("patched")
    v.add_argument("base")
    v.add_argument("expected")
    e = sub.add_parser("events")
    e.add_argument("outdir")
    e.add_argument("rules")
    for name in ("splats", "kunit"):
        sub.add_parser(name).add_argument("outdir")
    args = ap.parse_args(argv)
    return {"summary": cmd_summary, "compare": cmd_compare,
            "verdicts": cmd_verdicts, "splats": cmd_splats,
            "kunit": cmd_kunit, "events": cmd_events}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
