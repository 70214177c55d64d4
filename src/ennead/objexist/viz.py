"""Pictures: episode strips (PNG) and GIFs, learning curves, the results table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ennead.core.io import save_figure
from ennead.objexist.shapes import OBJECT_NAMES

_ACT = {0: "left", 1: "right", 2: "stop", -1: ""}


def _font():  # type: ignore[no-untyped-def]
    from PIL import ImageFont

    return ImageFont.load_default()


def episode_frames(sim: Any, scenes: Any, ep: Any, i: int, scale: int = 3) -> list[Any]:
    """One PIL image per view of episode ``i``, captioned with the action taken there."""
    from PIL import Image, ImageDraw

    frames = []
    steps = [t for t in range(ep.actions.shape[1]) if ep.actions[i, t] >= 0]
    sub = scenes.take(np.array([i]))
    idmap = sim.cfg.observation == "idmap"
    for t in steps:
        frame = sim.render(sub, np.array([ep.views[i, t]]), shade=True)
        rgb = frame.rgb[0]
        if idmap:  # the shaded view (for people) next to the id map the agent sees
            rgb = np.concatenate([rgb, np.full((rgb.shape[0], 2, 3), 255, np.uint8)], 1)
            rgb = np.concatenate([rgb, sim.picture(frame)[0]], 1)
        img = Image.fromarray(rgb).resize(
            (rgb.shape[1] * scale, rgb.shape[0] * scale), Image.NEAREST
        )
        canvas = Image.new("RGB", (img.width, img.height + 24), "white")
        canvas.paste(img, (0, 0))
        draw = ImageDraw.Draw(canvas)
        a = int(ep.actions[i, t])
        text = f"t={t} view {int(ep.views[i, t]) * 30:+d}deg: {_ACT[a]}"
        if a == 2:
            text = f"t={t}: answer {'YES' if ep.answer[i] else 'NO'}"
        draw.text((3, img.height + 6), text, fill="black", font=_font())
        frames.append(canvas)
    return frames


def episode_strip(sim: Any, scenes: Any, ep: Any, rows: list[int], path: str | Path) -> Path:
    """A PNG: one row per episode (views left to right) with the query, truth and answer."""
    from PIL import Image, ImageDraw

    lines = []
    for i in rows:
        frames = episode_frames(sim, scenes, ep, i)
        w = sum(f.width for f in frames)
        h = frames[0].height + 20
        row = Image.new("RGB", (max(w, 620), h), "white")
        truth = "yes" if scenes.label[i] else "no"
        objs = ", ".join(OBJECT_NAMES[o] for o in scenes.objects[i] if o >= 0)
        verdict = "right" if ep.correct[i] else "WRONG"
        ImageDraw.Draw(row).text(
            (3, 4),
            f"is there a {OBJECT_NAMES[scenes.query[i]]}? truth {truth} [{objs}"
            f"{', hidden at start' if scenes.occluded[i] else ''}] -> {verdict}, "
            f"{int(ep.moves[i])} moves",
            fill="black",
            font=_font(),
        )
        x = 0
        for f in frames:
            row.paste(f, (x, 20))
            x += f.width
        lines.append(row)
    out = Image.new("RGB", (max(r.width for r in lines), sum(r.height for r in lines)), "white")
    y = 0
    for r in lines:
        out.paste(r, (0, y))
        y += r.height
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out.save(path)
    return path


def episode_gif(sim: Any, scenes: Any, ep: Any, i: int, path: str | Path) -> Path:
    frames = episode_frames(sim, scenes, ep, i, scale=4)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frames[0].save(path, save_all=True, append_images=frames[1:] or [], duration=700, loop=0)
    return path


def learning_curves(rows: list[dict[str, Any]], path: str | Path) -> Path | None:
    """Accuracy, moves and reward against training episodes, one line per job."""
    rows = [r for r in rows if "job" in r and "accuracy" in r]
    if not rows:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    jobs = list(dict.fromkeys(r["job"] for r in rows))
    for job in jobs:
        jr = [r for r in rows if r["job"] == job]
        # episodes restart at each stage; accumulate them
        total, last_stage, base, xs = 0, None, 0, []
        for r in jr:
            if r["stage"] != last_stage:
                base, last_stage = total, r["stage"]
            total = base + r["episodes"]
            xs.append(total)
        for ax, key in zip(axes, ("accuracy", "moves", "reward")):
            ax.plot(xs, [r[key] for r in jr], label=job)
    for ax, key in zip(axes, ("training accuracy", "moves per episode", "reward")):
        ax.set_title(key)
        ax.set_xlabel("episodes")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)


def results_table(results: dict[str, dict[str, Any]]) -> str:
    """Markdown: one row per policy, accuracy / mean moves per test split."""
    splits = list(dict.fromkeys(k for r in results.values() for k in r))
    head = "| policy | " + " | ".join(splits) + " |\n|---|" + "---|" * len(splits) + "\n"
    body = ""
    for name, res in results.items():
        cells = []
        for s in splits:
            m = res.get(s)
            cells.append(f"{100 * m['accuracy']:.1f}% / {m['moves']:.2f}" if m else "-")
        body += f"| {name} | " + " | ".join(cells) + " |\n"
    return head + body + "\n(accuracy / mean moves made; @holdout = held-out object pairs)\n"
