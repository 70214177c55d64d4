"""The controlled stream of the CI claim: templated entity typing, label-incremental.

Each label (an entity type) owns a few head nouns (made-up words); the sentence around the marked
mention carries trigger words. Every trigger is shared by two labels of *different* tasks, so the
context alone points to two tasks and the PET-module selector can route wrongly; only the noun
settles the label. The text ends with the paper's cloze suffix, ``... is a [MASK] .``
"""

from __future__ import annotations

import random

from ennead.conpet.stream import Example, Stream, Task, validate

_CONS = "bdfgklmnprstvz"
_VOWELS = "aeiou"


def _words(rng: random.Random, n: int, taken: set[str], syllables: int = 2) -> list[str]:
    out: list[str] = []
    while len(out) < n:
        w = "".join(rng.choice(_CONS) + rng.choice(_VOWELS) for _ in range(syllables))
        if w not in taken:
            taken.add(w)
            out.append(w)
    return out


def controlled_stream(
    seed: int = 0,
    n_tasks: int = 5,
    labels_per_task: int = 4,
    nouns_per_label: int = 8,
    train_per_label: int = 80,
    valid_per_label: int = 10,
    test_per_label: int = 30,
    fillers: int = 30,
    noise: float = 0.2,
) -> Stream:
    """A seeded stream; ``noise`` is the share of sentences whose trigger comes from another
    label (so context misleads and the model must read the noun)."""
    rng = random.Random(seed)
    taken: set[str] = set()
    n_labels = n_tasks * labels_per_task
    label_names = [f"type{k + 1:02d}" for k in range(n_labels)]
    nouns = {lab: _words(rng, nouns_per_label, taken, 3) for lab in label_names}
    filler = _words(rng, fillers, taken, 2)
    # Triggers: label k of task i shares one trigger with a label of task (i + 1) mod T and one
    # with a label of task (i + 2) mod T, so no trigger names a single task.
    triggers: dict[str, list[str]] = {lab: [] for lab in label_names}
    task_of = {lab: k // labels_per_task for k, lab in enumerate(label_names)}
    for shift in (1, 2):
        for k, lab in enumerate(label_names):
            i, j = divmod(k, labels_per_task)
            other = label_names[((i + shift) % n_tasks) * labels_per_task + j]
            if task_of[other] == task_of[lab]:
                continue
            word = _words(rng, 1, taken, 2)[0]
            triggers[lab].append(word)
            triggers[other].append(word)

    def sentence(lab: str) -> str:
        noun = rng.choice(nouns[lab])
        source = lab if rng.random() >= noise else rng.choice(label_names)
        trig = rng.choice(triggers[source] or filler)
        left = " ".join(rng.choice(filler) for _ in range(rng.randint(1, 4)))
        right = " ".join(rng.choice(filler) for _ in range(rng.randint(1, 4)))
        if rng.random() < 0.5:
            body = f"{left} {trig} [E] {noun} [/E] {right}"
        else:
            body = f"{left} [E] {noun} [/E] {trig} {right}"
        return f"{body} . in this sentence , {noun} is a [MASK] ."

    uid = 0
    tasks = []
    sizes = {"train": train_per_label, "valid": valid_per_label, "test": test_per_label}
    for i in range(n_tasks):
        labs = label_names[i * labels_per_task : (i + 1) * labels_per_task]
        task = Task(name=f"task{i + 1}", labels=labs)
        for split, n in sizes.items():
            for lab in labs:
                for _ in range(n):
                    getattr(task, split).append(Example(uid, sentence(lab), lab))
                    uid += 1
        tasks.append(task)
    return validate(Stream(name=f"controlled-seed{seed}", tasks=tasks))
