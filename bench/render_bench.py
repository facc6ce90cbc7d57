"""Micro-benchmark of the merge-field renderer, against Django's template engine and str.format_map.

    .venv/bin/python bench/render_bench.py
    .venv/bin/python bench/render_bench.py --renders 20000 --repeat 3   # quick run

It renders the typical template for N distinct value dicts (built beforehand and timed
apart), once per engine per round, and keeps each engine's best round. Django's engine
runs with autoescape off (an SMS is not HTML), str.format_map has no defaults and no
missing-value check, so it is the floor. No database and no project settings are used:
Django is configured empty, which is all that templates.renderer (its error classes come
from DRF) and Django's standalone Engine need.
It prints a Markdown table and writes the figures to bench/out/render_bench.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
sys.path.insert(0, str(ROOT))

import django  # noqa: E402
from django.conf import settings  # noqa: E402

settings.configure()
django.setup()

from django.template import Context, Engine  # noqa: E402

from templates.renderer import compile_template  # noqa: E402

OURS = 'Hi {{ name|default:"there" }}, your order {{ order_no }} ships to {{ city }}.'
DJANGO = "Hi {{ name|default:'there' }}, your order {{ order_no }} ships to {{ city }}."
FORMAT = "Hi {name}, your order {order_no} ships to {city}."
CITIES = ["Leeds", "Lyon", "Leipzig", "Lisboa", "Łódź", "Ljubljana", "Linz", "Lund"]
TARGET = 200_000


def make_values(count: int) -> list[dict[str, str]]:
    """Distinct dicts as imported contacts give them; one in five has no name, so the default is used."""
    return [
        {"name": "" if n % 5 == 0 else f"Name{n}", "order_no": f"A-{n:07d}", "city": CITIES[n % len(CITIES)]}
        for n in range(count)
    ]


def engines() -> dict[str, Callable[[dict[str, str]], str]]:
    ours = compile_template(OURS).render
    django_template = Engine().from_string(DJANGO)
    fmt = FORMAT.format_map
    return {
        "templates.renderer (compile once, join)": ours,
        "Django Engine().from_string + Context": lambda v: django_template.render(Context(v, autoescape=False)),
        "str.format_map (no defaults, no checks)": fmt,
    }


def time_once(render: Callable[[dict[str, str]], str], values: list[dict[str, str]]) -> float:
    start = time.perf_counter()
    for value in values:
        render(value)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5, help="rounds; each engine's best round counts")
    args = parser.parse_args()

    start = time.perf_counter()
    values = make_values(args.renders)
    # format_map knows no defaults: its dicts get the default name beforehand, outside the timing.
    filled = [{**v, "name": v["name"] or "there"} for v in values]
    prepare_s = time.perf_counter() - start

    renderers = engines()
    inputs = {name: filled if name.startswith("str.") else values for name in renderers}
    outputs = {name: [render(v) for v in inputs[name][:1000]] for name, render in renderers.items()}
    first = next(iter(outputs.values()))
    assert all(out == first for out in outputs.values()), "the engines disagree on the rendered text"

    best = dict.fromkeys(renderers, float("inf"))
    for _ in range(args.repeat):  # rounds interleave the engines, so a noisy moment hits them alike
        for name, render in renderers.items():
            best[name] = min(best[name], time_once(render, inputs[name]))

    ours_rate = args.renders / best[next(iter(renderers))]
    rows = [
        {
            "engine": name,
            "seconds": round(seconds, 4),
            "renders_per_s": round(args.renders / seconds),
            "us_per_render": round(seconds / args.renders * 1e6, 3),
            "vs_ours": round((args.renders / seconds) / ours_rate, 2),
        }
        for name, seconds in best.items()
    ]
    command = " ".join([".venv/bin/python", "bench/render_bench.py", *sys.argv[1:]])
    result = {
        "command": command,
        "template": OURS,
        "renders": args.renders,
        "repeat": args.repeat,
        "prepare_values_s": round(prepare_s, 4),
        "python": platform.python_version(),
        "django": django.get_version(),
        "cpus": os.cpu_count(),
        "target_renders_per_s": TARGET,
        "target_met": ours_rate >= TARGET,
        "results": rows,
    }
    OUT.mkdir(exist_ok=True)
    (OUT / "render_bench.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")

    print(f"`{command}`\n")
    print(f"{args.renders:,} distinct value dicts (prepared in {prepare_s:.2f} s, not timed), best of {args.repeat}.\n")
    print("| engine | time | renders/s | µs/render | vs ours |")
    print("|---|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['engine']} | {row['seconds']:.3f} s | {row['renders_per_s']:,} | "
            f"{row['us_per_render']:.2f} | {row['vs_ours']:.2f}x |"
        )
    verdict = "met" if result["target_met"] else "NOT met"
    print(f"\nTarget: at least {TARGET:,} renders/s for templates.renderer ({verdict}).")


if __name__ == "__main__":
    main()
