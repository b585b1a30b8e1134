"""``synatest cassettes check|prune|stats``: keep a cassette directory healthy.

- ``check``: every cassette is whole (its seal matches), parses and holds no
  secret; every bad file is reported and the others still checked. ``--fix``
  re-seals cassettes edited by hand (or written before seals, format 1) once they
  parse, and rewrites stale lookup keys. With ``--run``, the test suite is
  replayed once (no live calls) to list orphan cassettes (no test used them) and
  unused recordings. Exit code 1 on any problem.
- ``prune``: with ``--run``, delete orphan cassettes and drop unused recordings
  (``--dry-run`` to only list them).
- ``stats``: recordings, kinds, models, tokens and cost per cassette.
- ``merge A B -o OUT``: combine cassettes (files, or directories file by file) recorded
  apart, e.g. by shards on different machines: no recording lost, none doubled.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "cassettes",
        help="check, prune and summarize recorded LM cassettes",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, help_text, handler in (
        ("check", "parse every cassette, scan for secrets, list orphans/unused", run_check),
        ("prune", "delete orphan cassettes and unused recordings (needs --run)", run_prune),
        ("stats", "recordings, models, tokens and cost per cassette", run_stats),
    ):
        action = actions.add_parser(name, help=help_text)
        action.add_argument(
            "--dir", default="cassettes", help="cassette directory (default: cassettes)"
        )
        if name != "stats":
            action.add_argument(
                "--run",
                nargs="*",
                metavar="PYTEST_ARG",
                default=None,
                help="replay the test suite (pytest with these arguments, record mode none) "
                "to find orphan cassettes and unused recordings",
            )
        if name == "check":
            action.add_argument(
                "--rekey",
                action="store_true",
                help="rewrite cassettes whose stored lookup keys are stale",
            )
            action.add_argument(
                "--fix",
                action="store_true",
                help="re-seal cassettes edited by hand or written before seals (they must "
                "still parse and hold no secret), and rewrite stale lookup keys",
            )
        if name == "prune":
            action.add_argument("--dry-run", action="store_true", help="list what would be removed")
        action.set_defaults(handler=handler)
    merge = actions.add_parser(
        "merge",
        help="combine cassettes recorded apart (e.g. by shards), no recording lost or doubled",
        description=(
            "Combine cassette files, or cassette directories file by file, into OUT: every "
            "recording of every source, each recorded call once (identical recordings in "
            "several sources are kept once). Written sealed and atomically, after the "
            "secret scan. Exit code 2 when a source is missing or not a valid cassette."
        ),
    )
    merge.add_argument(
        "sources", nargs="+", metavar="SOURCE", help="cassette files, or cassette directories"
    )
    merge.add_argument(
        "--output", "-o", required=True, metavar="OUT", help="the merged file or directory"
    )
    merge.set_defaults(handler=run_merge)


def _load_all(
    root: Path, rekey: bool = False, fix: bool = False
) -> tuple[dict[Path, Any], list[str]]:
    """Every cassette under ``root`` that loads, and one problem line per bad file.

    A file that cannot be read, decoded, or parsed, or whose seal fails, is reported
    and skipped: the other files are still checked.
    """
    import yaml

    from synatest.cassettes import secrets
    from synatest.cassettes.store import (
        Cassette,
        iter_cassettes,
        load_yaml,
        read_cassette_text,
        reseal,
    )
    from synatest.errors import CassetteError

    loaded: dict[Path, Any] = {}
    problems: list[str] = []
    for path in iter_cassettes(root):
        try:
            text = read_cassette_text(path)
        except CassetteError as error:
            problems.append(f"unreadable: {error}")
            continue
        assert text is not None
        problems += [f"secret: {path}: {hit}" for hit in secrets.scan(text)]
        if path.name.endswith(".http.yaml"):  # vcrpy's format: seal, parse and scan only
            from synatest.cassettes.http import open_http_cassette

            try:
                load_yaml(open_http_cassette(path))
            except CassetteError as error:
                problems.append(f"unreadable: {error}")
            except yaml.YAMLError as error:
                problems.append(f"unreadable: {path}: not valid YAML ({error})")
            continue
        if fix:
            try:
                if reseal(path):
                    print(f"sealed {path}")
            except CassetteError as error:
                problems.append(f"unreadable: {error}")
                continue
        try:
            loaded[path] = Cassette.load(path, missing_ok=False, lazy=False)
        except CassetteError as error:
            problems.append(f"unreadable: {error}")
            continue
        if not loaded[path].sealed:
            print(
                f"unsealed: {path} (format {loaded[path].format}, written before seals): "
                "`synatest cassettes check --fix` seals it"
            )
        if loaded[path].stale_keys and not rekey:
            numbers = ", ".join(f"#{n}" for n in loaded[path].stale_keys[:10])
            problems.append(
                f"stale key: {path}: recording(s) {numbers} have a `key:` that does not "
                "match their request (edited by hand, or scrubbers changed); big cassettes "
                "are looked up by that key: run `synatest cassettes check --rekey`"
            )
        elif loaded[path].stale_keys:
            loaded[path].save()
            print(f"rekeyed {path}")
    return loaded, problems


def replay_usage(pytest_args: list[str]) -> dict[str, Any]:
    """Run the suite once in replay mode; which recordings each cassette's tests used."""
    with tempfile.TemporaryDirectory(prefix="synatest-usage-") as tmp:
        target = Path(tmp) / "usage.json"
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--synalinks-record-mode=none",
            f"--synalinks-cassette-usage={target}",
            *pytest_args,
        ]
        completed = subprocess.run(command, check=False, capture_output=True, text=True)
        usage: dict[str, Any] = {}
        for part in sorted(Path(tmp).glob("usage.json*")):
            for path, entry in json.loads(part.read_text()).items():
                merged = usage.setdefault(path, {"used": [], "extra_only": True})
                merged["used"] = sorted(set(merged["used"]) | set(entry["used"]))
                if not entry.get("extra_only"):
                    merged["extra_only"] = False
        if completed.returncode not in (0, 5):  # 5: no tests collected
            tail = "\n".join(completed.stdout.splitlines()[-15:])
            raise SystemExit(
                f"synatest cassettes: the replay run failed (pytest exit "
                f"{completed.returncode}); fix the failing tests first:\n{tail}"
            )
        return usage


def _usage_problems(
    loaded: dict[Path, Any], usage: dict[str, Any]
) -> tuple[list[Path], dict[Path, list[int]]]:
    used_paths = {Path(p).resolve(): entry for p, entry in usage.items()}
    orphans, unused = [], {}
    for path, cassette in loaded.items():
        entry = used_paths.get(path.resolve())
        if entry is None:
            orphans.append(path)
            continue
        if entry.get("extra_only"):
            continue  # only read as an extra: its own tests decide what is unused
        missing = sorted(set(range(len(cassette.own))) - set(entry["used"]))
        if missing:
            unused[path] = missing
    return orphans, unused


def run_check(args: argparse.Namespace) -> int:
    root = Path(args.dir)
    if not root.is_dir():
        print(f"synatest cassettes check: no cassette directory {root}", file=sys.stderr)
        return 2
    loaded, problems = _load_all(root, rekey=args.rekey or args.fix, fix=args.fix)
    if args.run is not None:
        orphans, unused = _usage_problems(loaded, replay_usage(args.run))
        problems += [f"orphan: {p} (no test replayed it)" for p in orphans]
        problems += [
            f"unused: {p}: recording(s) {', '.join(f'#{n}' for n in ns)} never replayed"
            for p, ns in unused.items()
        ]
    for line in problems:
        print(line)
    total = sum(len(c.own) for c in loaded.values())
    verdict = "OK" if not problems else f"{len(problems)} problem(s)"
    print(f"{len(loaded)} cassette(s), {total} recording(s): {verdict}")
    return 1 if problems else 0


def run_prune(args: argparse.Namespace) -> int:
    root = Path(args.dir)
    if args.run is None:
        print(
            "synatest cassettes prune: pass --run [PYTEST_ARG ...] so that the suite is "
            "replayed once to find what no test uses",
            file=sys.stderr,
        )
        return 2
    loaded, problems = _load_all(root)
    if problems:
        for line in problems:
            print(line)
        print("fix these first (prune never rewrites a cassette it cannot read)")
        return 1
    orphans, unused = _usage_problems(loaded, replay_usage(args.run))
    for path in orphans:
        print(f"{'would delete' if args.dry_run else 'deleted'} orphan {path}")
        if not args.dry_run:
            path.unlink()
    for path, numbers in unused.items():
        cassette = loaded[path]
        keep = [i for n, i in enumerate(cassette.own) if n not in set(numbers)]
        print(
            f"{'would drop' if args.dry_run else 'dropped'} {len(numbers)} unused "
            f"recording(s) from {path}"
        )
        if not args.dry_run:
            cassette.save(keep)
    if not orphans and not unused:
        print("nothing to prune")
    return 0


def run_stats(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    root = Path(args.dir)
    loaded, problems = _load_all(root)
    rows = []
    totals: Counter[str] = Counter()
    for path, cassette in loaded.items():
        kinds = Counter(i.kind for i in cassette.own)
        models = sorted({str(i.request.get("model", "?")) for i in cassette.own})
        tokens = sum(
            int(((i.response or {}).get("usage") or {}).get("total_tokens") or 0)
            for i in cassette.own
        )
        cost = sum(i.cost or 0.0 for i in cassette.own)
        errors = sum(1 for i in cassette.own if i.error)
        streams = sum(1 for i in cassette.own if i.stream is not None)
        rows.append(
            [
                str(path.relative_to(root)),
                len(cassette.own),
                ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())),
                streams,
                errors,
                ", ".join(models),
                tokens,
                f"{cost:.6f}",
                path.stat().st_size,
            ]
        )
        totals.update(recordings=len(cassette.own), tokens=tokens, bytes=path.stat().st_size)
        totals["cost_micro"] += int(cost * 1_000_000)
    headers = [
        "cassette",
        "recordings",
        "kinds",
        "streams",
        "errors",
        "models",
        "tokens",
        "cost $",
        "bytes",
    ]
    print(tabulate(rows, headers=headers, disable_numparse=True))
    print(
        f"{len(rows)} cassette(s), {totals['recordings']} recording(s), "
        f"{totals['tokens']} tokens, ${totals['cost_micro'] / 1_000_000:.6f}, "
        f"{totals['bytes']} bytes"
    )
    for line in problems:
        print(line)
    return 1 if problems else 0


def _merge_fail(message: str) -> int:
    print(f"synatest cassettes merge: error: {message}", file=sys.stderr)
    return 2


def run_merge(args: argparse.Namespace) -> int:
    from synatest.cassettes.shared import merge_files
    from synatest.cassettes.store import iter_cassettes
    from synatest.errors import CassetteError

    sources = [Path(source) for source in args.sources]
    missing = [str(source) for source in sources if not source.exists()]
    if missing:
        return _merge_fail(f"no such file or directory: {', '.join(missing)}")
    target = Path(args.output)
    kinds = {source.is_dir() for source in sources}
    if len(kinds) > 1:
        return _merge_fail(
            "give only cassette files or only cassette directories, not both: "
            + ", ".join(f"{s} ({'directory' if s.is_dir() else 'file'})" for s in sources)
        )
    if kinds == {False}:
        jobs = {target: sources}
    else:
        if target.exists() and not target.is_dir():
            return _merge_fail(f"{target} is a file: the sources are directories")
        jobs = {}
        for source in sources:
            for path in iter_cassettes(source):
                jobs.setdefault(target / path.relative_to(source), []).append(path)
    written = dropped = 0
    try:
        for out, paths in sorted(jobs.items()):
            if out.name.endswith(".http.yaml"):
                texts = {path.read_bytes() for path in paths}
                if len(texts) > 1:
                    raise CassetteError(
                        f"HTTP-layer cassettes differ: {', '.join(map(str, paths))}; they "
                        "cannot be combined recording by recording: keep one, or re-record "
                        "the test"
                    )
                from synatest._atomic import atomic_write_text

                atomic_write_text(out, paths[0].read_text(encoding="utf-8"))
                continue
            kept, doubled = merge_files(paths, out)
            written, dropped = written + kept, dropped + doubled
    except CassetteError as error:
        return _merge_fail(str(error))
    print(
        f"synatest: {len(jobs)} cassette file(s) written to {target}: {written} recording(s), "
        f"{dropped} duplicate(s) dropped"
    )
    return 0
