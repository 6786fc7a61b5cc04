"""Command line: ``python -m langchain_ffm_friendli demo [--provider ffm]``."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the requested command."""
    parser = argparse.ArgumentParser(prog="python -m langchain_ffm_friendli")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo", help="run a two-tool LangChain agent on each provider (emulator without keys)"
    )
    demo.add_argument("--provider", choices=["ffm", "friendli", "monsterapi", "all"], default="all")
    args = parser.parse_args(argv)
    from langchain_ffm_friendli._demo import main as run_demo

    return run_demo(args.provider)


if __name__ == "__main__":
    sys.exit(main())
