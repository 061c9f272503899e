"""The ``har`` command: training-side subcommands (need the [train] extra) and ``har predict``."""

from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="har", description="On-device human activity recognition engine")
    sub = parser.add_subparsers(dest="command", required=True)
    try:
        from har.model.cli import add_parsers
    except ImportError as exc:          # runtime-only install: training commands need the extra
        missing = exc.name or "scikit-learn"
        for name in ("data", "train", "evaluate", "export-engine"):
            p = sub.add_parser(name, help=f"(needs the [train] extra: {missing} is missing)")
            p.add_argument("rest", nargs=argparse.REMAINDER)
            p.set_defaults(missing=missing)
    else:
        add_parsers(sub)
    from .predict import add_parser as add_predict
    add_predict(sub)
    from .web_server import add_parser as add_web
    add_web(sub)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "missing", None):
        print(f"har {args.command}: needs the training dependencies ({args.missing} is missing); "
              f"install them with: pip install 'har-engine[train]'", file=sys.stderr)
        return 2
    try:
        if args.command == "predict":
            from .predict import run
            return run(args)
        if args.command == "web":
            from .web_server import run
            return run(args)
        from har.model.cli import run
        return run(args)
    except ImportError as exc:                  # runtime-only install: no training dependencies
        print(f"har {args.command}: needs the training dependencies ({exc.name or exc} is missing); "
              f"install them with: pip install 'har-engine[train]'", file=sys.stderr)
        return 2
    except (ValueError, OSError) as exc:        # bad input: one line, no traceback
        print(f"har {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
