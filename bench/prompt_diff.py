"""The prompt-vs-revised_prompt diff the Gallery's image view shows, at the longest prompt the API takes.

    .venv/bin/python -m bench.prompt_diff

Times `diff_html` on 32,000-character prompts against a near-identical revision (three words changed) and an
unrelated text of the same words, beside a 1,000-character prompt; the goal is that the long diff costs no
more than a page can wait for (well under 100 ms), where an unbounded word diff took seconds (issue 16).
"""

from __future__ import annotations

import random
import statistics
import time

from studio.services.prompt_diff import diff_html

WORDS = "the a of misty harbour fog port dawn light boat sail red blue green in on at with and lantern".split()


def text(rng: random.Random, chars: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(chars // 3))[:chars]


def median_ms(a: str, b: str, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        diff_html(a, b)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    rng = random.Random(7)
    for chars in (1_000, 32_000):
        prompt = text(rng, chars)
        near = prompt.replace("harbour", "port", 3)
        other = text(rng, chars)
        print(f"{chars:>6,} chars: near-identical {median_ms(prompt, near):8.2f} ms   unrelated {median_ms(prompt, other):8.2f} ms")


if __name__ == "__main__":
    main()
