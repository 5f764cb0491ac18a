"""The verbs for whoever sends data: `sources` (the contracts, their templates), `init`, `status`
and `validate`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from flows.settings import Settings


def sources(args: argparse.Namespace, settings: Settings) -> int:
    from flows.sources.contracts import SOURCES
    from flows.transform import dbt_yaml

    if args.template:
        return template(args)
    if args.write:
        from flows.quality import suites

        for path in [*dbt_yaml.write(), *suites.write_source_suites()]:
            print(f"wrote {path}")
        return 0
    from flows.sources.contracts import TYPE_FORMATS

    for source in SOURCES.values():
        if args.name and source.name != args.name:
            continue
        print(
            f"{source.name}  (inbox/{source.name}/; {', '.join(source.formats)}; "
            f"key: {', '.join(source.key)}; expected {source.cadence.describe()})"
        )
        print(f"  {source.description}")
        if args.name:
            for c in source.columns:
                kind = "|".join(c.allowed) if c.allowed else TYPE_FORMATS[c.type]
                need = "required" if c.required else "optional"
                print(f"    {c.name:<26} {need:<9} {kind}: {c.description}")
    return 0


def template(args: argparse.Namespace) -> int:
    from flows.sources import templates

    if not args.name:
        print("--template needs a source: `bluelight sources NAME --template`", file=sys.stderr)
        return 2
    out = args.out or Path(f"{args.name}.{args.format}")
    try:
        written = templates.write_template(args.name, args.format, out)
    except templates.TemplateError as error:
        print(error, file=sys.stderr)
        return 2
    print(
        f"wrote {written}: the {args.name} contract's columns and one worked example row"
        + ("; the sheet 'Columns' describes each column" if args.format == "xlsx" else "")
        + f". Replace the example with your rows, then put the file in inbox/{args.name}/ "
        f"(check it first with `bluelight validate {written} --source {args.name}`)."
    )
    return 0


def init(args: argparse.Namespace, settings: Settings) -> int:
    from flows.sources.contracts import SOURCES

    settings.ensure_dirs()
    for name in SOURCES:
        (settings.inbox / name).mkdir(exist_ok=True)
    print(f"Data directory ready: {settings.home}")
    print(f"Put each file in {settings.inbox}/<source>/ (`bluelight sources` lists them):")
    for name, source in SOURCES.items():
        print(f"  inbox/{name + '/':<26} {source.kind}: {source.cadence.describe()}")
    print("Then `bluelight run` loads them; `bluelight status` says what has loaded.")
    return 0


def status(args: argparse.Namespace, settings: Settings) -> int:
    from flows.warehouse import status
    from flows.warehouse.migrations import WarehouseTooNew

    if not settings.home.is_dir():
        print(
            f"No data directory at {settings.home}: set BLUELIGHT_HOME to the one the services "
            "use, or make a new one with `bluelight init`.",
            file=sys.stderr,
        )
        return 2
    try:
        print(status.report(settings))
    except WarehouseTooNew as refusal:
        print(refusal, file=sys.stderr)
        return 1
    return 0


def validate(args: argparse.Namespace, settings: Settings) -> int:
    from flows.load import validate
    from flows.warehouse import backend

    if not args.file.is_file():
        print(f"No file at {args.file}", file=sys.stderr)
        return 2
    published = backend.published(settings)
    verdict = validate.validate(args.file, args.source, published, settings)
    print(verdict.report())
    return 1 if verdict.verdict == validate.REJECT else 0
