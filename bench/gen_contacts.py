"""Write a contacts CSV for the benchmarks: national and international numbers,
about 2% invalid, about 1% duplicates, three variable columns, some non-ASCII names.

    python bench/gen_contacts.py ROWS PATH
"""

from __future__ import annotations

import csv
import random
import sys

FIRST = ["Alice", "Bob", "Chloé", "Dmitri", "Eva", "Fatima", "Günther", "Hiroshi", "Inès", "José", "Zoë", "Ľubomír"]
LAST = ["Smith", "Jones", "Müller", "Dubois", "Nowak", "García", "Øvergaard", "Kowalczyk", "O'Brien", "Núñez"]
CITIES = ["London", "Leeds", "Zürich", "Kraków", "São Paulo", "Lagos", "Reykjavík", "Montréal"]


def phone(rng: random.Random, n: int) -> str:
    """A valid number, unique per n: UK mobiles (national or international format) or US numbers."""
    kind = n % 4
    if kind == 0:
        return f"07{400 + n // 1_000_000 % 600:03d} {n % 1_000_000:06d}"
    if kind == 1:
        return f"+44 7{400 + n // 1_000_000 % 600:03d} {n % 1_000_000:06d}"
    if kind == 2:
        return f"+1 (201) 555-{n % 10_000:04d}".replace("555", f"{200 + n // 10_000 % 800:03d}")
    return f"0044 7{400 + n // 1_000_000 % 600:03d}-{n % 1_000_000:06d}"


def main(rows: int, path: str, seed: int = 42) -> None:
    rng = random.Random(seed)
    issued: list[str] = []
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["First Name", "Last Name", "Mobile", "Order No.", "City", "Balance"])
        for n in range(rows):
            roll = rng.random()
            if roll < 0.02:
                number = f"{rng.randint(100, 99999)}"  # invalid
            elif roll < 0.03 and issued:
                number = rng.choice(issued)  # duplicate of an earlier row
            else:
                number = phone(rng, n)
                if len(issued) < 10_000:
                    issued.append(number)
            writer.writerow(
                [
                    rng.choice(FIRST),
                    rng.choice(LAST),
                    number,
                    f"A-{n:07d}",
                    rng.choice(CITIES),
                    f"{rng.random() * 500:.2f}",
                ]
            )


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
