"""Does the sound-effect engine refuse what it cannot make, and still accept what it can?

    .venv/bin/python -m bench.sfx_refusals            # accept/refuse figures per prompt set
    .venv/bin/python -m bench.sfx_refusals --margins  # and each clause's distance to the thresholds

In-catalogue prompts count as accepted when the engine renders them with the expected main
source; out-of-catalogue prompts count as refused when it raises ``UnmatchedPrompt``. Prints
figures; asserts nothing (tests/workers/gpu_sfx/test_engine.py does).
"""

import sys

from tests.sfx_open_set import DEV, HELD_OUT
from tests.sfx_prompts import HELD_OUT as LABELLED_HELD_OUT
from tests.sfx_prompts import LABELLED
from workers.gpu_sfx import prompt as P
from workers.gpu_sfx.engine import ProceduralEngine

SETS = {
    "sfx_prompts LABELLED (tuned on)": LABELLED,
    "sfx_prompts HELD_OUT": LABELLED_HELD_OUT,
    "sfx_open_set DEV (tuned on)": DEV,
    "sfx_open_set HELD_OUT (never tuned on)": HELD_OUT,
}


def figures(engine: ProceduralEngine, prompts: list) -> tuple[int, int, int, int, list[str]]:
    accepted = n_in = refused = n_out = 0
    misses = []
    for prompt, expected in prompts:
        plan = engine.understand(prompt)
        got = plan.sources if plan.accepted else []
        if expected is None:
            n_out += 1
            refused += not got
            if got:
                misses.append(f"{prompt!r}: made {plan.describe()!r}, should refuse")
        else:
            n_in += 1
            right = bool(got) and got[0] == expected[0]
            accepted += right
            if not right:
                misses.append(f"{prompt!r}: {plan.describe() if got else 'refused'}, expected {expected}")
    return accepted, n_in, refused, n_out, misses


def slack(keyword: str | None, match: P.Match) -> float:
    """How far a clause's decision sits from flipping (cosine units; >0 either way)."""
    ranked = match.ranked()
    if keyword is not None:
        return abs(match.foreign_score - match.scores[keyword] - P.KEYWORD_FOREIGN_MARGIN)
    (_, best), (_, second) = ranked[0], ranked[1]
    terms = [
        best - P.EMBEDDING_FLOOR,
        best - second - P.RUNNER_UP_MARGIN,
        best - match.foreign_score - P.FOREIGN_MARGIN,
    ]
    return min(terms) if min(terms) >= 0 else -min(terms)  # refused: by its largest shortfall


def main() -> None:
    engine = ProceduralEngine()
    print("| prompt set | in-catalogue accepted (right source) | out-of-catalogue refused |")
    print("|---|---|---|")
    all_misses = []
    for label, prompts in SETS.items():
        accepted, n_in, refused, n_out, misses = figures(engine, prompts)
        print(f"| {label} | {accepted}/{n_in} | {refused}/{n_out} |")
        all_misses += [f"{label}: {m}" for m in misses]
    for miss in all_misses:
        print(f"- {miss}")
    if "--margins" in sys.argv:
        print("\nclauses nearest a threshold (slack in cosine units):")
        rows = []
        for prompts in SETS.values():
            for prompt, _ in prompts:
                parts = P.clauses(prompt)
                for clause, match in zip(parts, engine._embed(parts), strict=True):
                    rows.append((slack(P.keyword_source(clause), match), clause))
        for value, clause in sorted(rows)[:15]:
            print(f"  {value:.3f}  {clause}")


if __name__ == "__main__":
    main()
