"""Batched episodes: N scenes, one camera each, masked as they stop.

Policies: ``learned`` (the movement head; sampled in training, greedy in tests), ``passive``
(stop at once), ``exhaustive`` (move left every step, answer after the last move), ``random``
(uniform over left/right/stop), ``sweep`` (per episode a direction and a length 0..max_moves drawn
uniformly, then that many moves one way: the walk used to train the answer head on consistent
multi-view sequences) and ``oracle`` (ground truth: move left while the query has not been
seen and some object on the table has not been seen yet; answer yes iff the query was seen).

Moves are counted as moves made (the original logs the index of the last loop step instead, so
an agent that never stops shows 5 after 6 moves). After ``max_moves`` moves the agent must answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F

from ennead.core.errors import UnknownNameError
from ennead.objexist.env import Tabletop, answer_reward
from ennead.objexist.model import MOVE_LEFT, MOVE_RIGHT, STOP, ObjExistNet, images_to_tensor
from ennead.objexist.scenes import Scenes

Policy = Literal["learned", "passive", "exhaustive", "random", "oracle", "sweep"]
POLICIES = ("learned", "passive", "exhaustive", "random", "oracle", "sweep")


@dataclass
class Episodes:
    """Outcome of a batch of episodes; tensors keep the graph when rolled out with grad."""

    answer_logits: torch.Tensor  # (N, 2)
    logp: torch.Tensor  # (T, N) log-prob of the sampled movement action (0 where masked)
    value: torch.Tensor  # (T, N) baseline b_t
    entropy: torch.Tensor  # (T, N)
    mask: torch.Tensor  # (T, N) 1 where the policy chose an action
    step_logits: torch.Tensor  # (T, N, 2) answer the agent would give at each step
    step_mask: torch.Tensor  # (T, N) 1 where the episode was still running
    moves: np.ndarray  # (N,) moves made
    answer: np.ndarray  # (N,) bool
    correct: np.ndarray  # (N,) bool
    reward: np.ndarray  # (N,) accuracy + latency reward
    actions: np.ndarray  # (N, T+1) 0 left, 1 right, 2 stop, -1 after the end
    views: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (N, T+1) view indices
    # with model.view_aux: "is the query in this view" logits from g_t, and the truth (T, N)
    seen_logits: torch.Tensor | None = None
    seen_label: torch.Tensor | None = None


def rollout(
    net: ObjExistNet | None,
    sim: Tabletop,
    scenes: Scenes,
    policy: Policy = "learned",
    *,
    greedy: bool = False,
    generator: torch.Generator | None = None,
    rng: np.random.Generator | None = None,
) -> Episodes:
    if policy not in POLICIES:
        raise UnknownNameError("policy", str(policy), POLICIES)
    if net is None and policy != "oracle":
        raise ValueError(f"policy {policy!r} needs a network for its answers")
    rng = rng or np.random.default_rng(0)
    n, t_max = len(scenes), sim.cfg.max_moves
    views = np.zeros(n, np.int64)
    moves = np.zeros(n, np.int64)
    active = np.ones(n, bool)
    query = torch.from_numpy(scenes.query)
    hidden = net.init_state(n) if net is not None else torch.zeros(n, 1)
    logits_out = torch.zeros(n, 2)
    steps = t_max + 1
    logp = [torch.zeros(n) for _ in range(steps)]
    value = [torch.zeros(n) for _ in range(steps)]
    ent = [torch.zeros(n) for _ in range(steps)]
    mask = torch.zeros(steps, n)
    step_logits = [torch.zeros(n, 2) for _ in range(steps)]
    step_mask = torch.zeros(steps, n)
    actions = np.full((n, steps), -1, np.int64)
    view_log = np.full((n, steps), -99, np.int64)
    if policy == "sweep":
        sweep_len = rng.integers(0, t_max + 1, n)
        sweep_dir = rng.choice(np.array([MOVE_LEFT, MOVE_RIGHT]), n)
    k = scenes.objects.shape[1]
    seen_obj = np.zeros((n, k), bool)
    oracle_answer = np.zeros(n, bool)
    seen_head = net.seen if net is not None else None
    aux = seen_head is not None
    seen_logits = [torch.zeros(n) for _ in range(steps)] if aux else []
    seen_label = torch.zeros(steps, n)
    for t in range(steps):
        rows = np.nonzero(active)[0]
        if len(rows) == 0:
            break
        sub = scenes.take(rows)
        frame = sim.render(sub, views[rows])
        view_log[rows, t] = views[rows]
        if policy == "oracle":
            px = frame.pixels_of(sub.objects) >= sim.cfg.min_pixels
            seen_obj[rows] |= px & (sub.objects >= 0)
        rows_t = torch.from_numpy(rows)
        if net is not None:
            depth = frame.depth if sim.cfg.depth else None
            g = net.encode(images_to_tensor(sim.observe(frame), depth), query[rows_t])
            if seen_head is not None:
                q_px = (frame.pixels_of(sub.objects) * (sub.objects == sub.query[:, None])).sum(1)
                seen_label[t, rows_t] = torch.from_numpy(q_px >= sim.cfg.min_pixels).float()
                seen_logits[t] = torch.zeros(n).index_put((rows_t,), seen_head(g)[:, 0])
            h = net.step(query[rows_t], g, hidden[rows_t])
            hidden = hidden.index_copy(0, rows_t, h)
            move_logits, b = net.act(h)
            # the answer it would give now (one extra core step, as for the final answer)
            ans_now = net.predict(query[rows_t], g, h)
            step_logits[t] = torch.zeros(n, 2).index_put((rows_t,), ans_now)
            step_mask[t, rows_t] = 1.0
        # -- choose actions -------------------------------------------------------------------
        if t == t_max or policy == "passive":
            act = np.full(len(rows), STOP)
        elif policy == "exhaustive":
            act = np.full(len(rows), MOVE_LEFT)
        elif policy == "random":
            act = rng.integers(0, 3, len(rows))
        elif policy == "sweep":
            act = np.where(t < sweep_len[rows], sweep_dir[rows], STOP)
        elif policy == "oracle":
            q_seen = ((sub.objects == sub.query[:, None]) & seen_obj[rows]).any(1)
            unseen = ((sub.objects >= 0) & ~seen_obj[rows]).any(1)
            act = np.where(~q_seen & unseen, MOVE_LEFT, STOP)
        else:
            logprobs = F.log_softmax(move_logits, 1)
            if greedy:
                a_t = logprobs.argmax(1)
            else:
                a_t = torch.multinomial(logprobs.detach().exp(), 1, generator=generator)[:, 0]
            act = a_t.numpy()
            logp[t] = torch.zeros(n).index_put((rows_t,), logprobs.gather(1, a_t[:, None])[:, 0])
            value[t] = torch.zeros(n).index_put((rows_t,), b)
            ent[t] = torch.zeros(n).index_put((rows_t,), -(logprobs.exp() * logprobs).sum(1))
            mask[t, rows_t] = 1.0
        actions[rows, t] = act
        # -- answer where the agent stops --------------------------------------------------------
        stop = act == STOP
        if stop.any():
            stop_rows = rows[stop]
            if policy == "oracle":
                q_seen = (
                    (scenes.objects[stop_rows] == scenes.query[stop_rows, None])
                    & seen_obj[stop_rows]
                ).any(1)
                oracle_answer[stop_rows] = q_seen
            if net is not None:
                sel = torch.from_numpy(np.nonzero(stop)[0])
                logits_out = logits_out.index_copy(0, torch.from_numpy(stop_rows), ans_now[sel])
            active[stop_rows] = False
        go = rows[act != STOP]
        views[go] += np.where(act[act != STOP] == MOVE_RIGHT, 1, -1)
        moves[go] += 1
    if policy == "oracle":
        answer = oracle_answer
    else:
        answer = logits_out.detach().argmax(1).numpy().astype(bool)
    correct = answer == scenes.label
    reward = answer_reward(correct, moves)
    return Episodes(
        answer_logits=logits_out,
        logp=torch.stack(logp),
        value=torch.stack(value),
        entropy=torch.stack(ent),
        mask=mask,
        step_logits=torch.stack(step_logits),
        step_mask=step_mask,
        moves=moves,
        answer=answer,
        correct=correct,
        reward=reward,
        actions=actions,
        views=view_log,
        seen_logits=torch.stack(seen_logits) if aux else None,
        seen_label=seen_label if aux else None,
    )


def reinforce_loss(
    ep: Episodes,
    label: np.ndarray,
    w_rl: float,
    entropy: float,
    supervised_only: bool = False,
    step_answer: float = 0.0,
    view_aux: float = 0.0,
) -> tuple[torch.Tensor, dict[str, float]]:
    """NLL(answer) + MSE(b_t, R) + w_RL * sum_t -log pi(a_t) (R - b_t) - entropy * H(pi).

    ``step_answer`` > 0 adds that weight times the answer NLL at every step taken (a belief-state
    auxiliary loss; the paper has 0). ``view_aux`` > 0 adds that weight times the binary
    cross-entropy of "the query shows in this view" at every step taken (``model.view_aux``).
    """
    y = torch.from_numpy(label.astype(np.int64))
    nll = F.cross_entropy(ep.answer_logits, y)
    if step_answer > 0 and ep.step_mask.sum() > 0:
        t, n = ep.step_mask.shape
        per = F.cross_entropy(ep.step_logits.reshape(t * n, 2), y.repeat(t), reduction="none")
        aux = (per * ep.step_mask.reshape(-1)).sum() / ep.step_mask.sum()
        nll_total = nll + step_answer * aux
    else:
        nll_total = nll
    if view_aux > 0 and ep.seen_logits is not None and ep.seen_label is not None:
        m = ep.step_mask
        bce = F.binary_cross_entropy_with_logits(ep.seen_logits, ep.seen_label, reduction="none")
        nll_total = nll_total + view_aux * (bce * m).sum() / m.sum().clamp(min=1.0)
    if supervised_only or ep.mask.sum() == 0:
        return nll_total, {"loss": float(nll_total.detach()), "nll": float(nll.detach())}
    r = torch.from_numpy(ep.reward).float()[None, :]
    denom = ep.mask.sum().clamp(min=1.0)
    value_loss = (((ep.value - r) ** 2) * ep.mask).sum() / denom
    adv = (r - ep.value.detach()) * ep.mask
    rl = (-(ep.logp * adv).sum(0)).mean()
    ent = (ep.entropy * ep.mask).sum() / denom
    loss = nll_total + value_loss + w_rl * rl - entropy * ent
    return loss, {
        "loss": float(loss.detach()),
        "nll": float(nll.detach()),
        "value_loss": float(value_loss.detach()),
        "rl": float(rl.detach()),
        "entropy": float(ent.detach()),
    }
