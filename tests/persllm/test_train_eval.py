import pytest

from ennead.core.backends.tiny_model import build_tiny_model, build_tiny_tokenizer
from ennead.core.retrieval.embedders import get_embedder
from ennead.persllm import language as L
from ennead.persllm import train as T
from ennead.persllm import world as W
from ennead.persllm.evaluate import evaluate_model, score_row
from ennead.persllm.materials import load_personas

EMB = get_embedder("hashing", dim=256)


@pytest.fixture(scope="module")
def tiny():
    tok = build_tiny_tokenizer(W.vocabulary_texts())
    return build_tiny_model(tok, hidden_size=16, num_layers=1, num_heads=2), tok


def test_stage_tokens_are_single_special_tokens_with_new_embeddings(tiny):
    model, tok = tiny
    n = len(tok)
    assert T.add_stage_tokens(model, tok, ["I", "II"]) == 2
    assert model.get_input_embeddings().weight.shape[0] == len(tok) == n + 2
    prompt = T.chat_prompt(tok, T.messages("persllm", "ada", "II", "do you like chess ?"))
    toks = tok.convert_ids_to_tokens(tok(prompt)["input_ids"])
    assert "<TIME-II>" in toks and "<|user|>" in toks  # the role tokens survived
    assert T.add_stage_tokens(model, tok, ["I"]) == 0


def test_prompt_forms_of_the_three_systems():
    b0 = T.messages("b0", "ada", "I", "q ?", "ada supports chess .")
    assert b0[0]["content"] == "you are ada . ada supports chess ." and b0[1]["content"] == "q ?"
    assert T.messages("b1", "ada", "I", "q ?")[1]["content"] == "q ?"
    assert T.messages("persllm", "ada", "I", "q ?")[1]["content"] == "<TIME-I> q ?"


def test_dpo_pairs_use_other_stage_and_other_persona_answers(world_personas, tmp_path, tiny):
    from ennead.persllm import build as B
    from ennead.persllm.config import BuildSettings
    from ennead.persllm.teacher import TemplateTeacher

    _, tok = tiny
    ps = load_personas(world_personas)
    cfg = BuildSettings(embedder="hashing")
    B.build(ps, cfg, TemplateTeacher(), tmp_path / "d", EMB)
    B.finish(tmp_path / "d", cfg, EMB, 0)
    items = B.load_split(tmp_path / "d", "train")
    pairs = T.dpo_pairs(tok, items, EMB, skip_top=2, only=ps[0].key)
    assert pairs and all(L.norm(p["chosen"]) != L.norm(p["rejected"]) for p in pairs)
    markers = {p.marker for p in ps}
    other = next(p.marker for p in ps if p.key != ps[0].key)
    assert any(p["rejected"].startswith(other) for p in pairs)  # another persona's answer
    flips = set(ps[0].flipped()) | {f"my {k} is" for k in W.CHANGING}
    stage_negs = [p for p in pairs if p["rejected"].startswith(ps[0].marker)]
    assert stage_negs and all(any(t in p["chosen"] for t in flips) for p in stage_negs)
    assert all(p["chosen"].split(" ,")[0] + " ," in markers for p in pairs)
    only_stage = T.dpo_pairs(tok, items, EMB, cross_persona=False, only=ps[0].key)
    assert len(only_stage) == len(stage_negs)


def test_scoring_rules():
    stance = {"metric": "stance", "topic": "chess", "gold": "pro"}
    assert score_row(stance, "well , i support chess .")
    assert not score_row(stance, "i support chess . i oppose chess .")  # both stances: no
    lead = {"metric": "induction", "topic": "chess", "gold": "pro", "echo": "oppose chess"}
    assert score_row(lead, "no , that is wrong . i support chess .")
    assert not score_row(lead, "i support chess .")  # no correction
    assert not score_row(lead, "yes , i oppose chess .")  # echoes the injected claim
    fact = {"metric": "induction", "key": "home", "gold": "paris", "echo": "rome"}
    assert score_row(fact, "no , my home is paris .") and not score_row(fact, "no , rome .")


def test_a_perfect_and_a_sycophantic_model(world_personas, tiny):
    """Scores come from the answers: gold answers score 1, echoing the user scores 0."""
    _, tok = tiny
    ps = load_personas(world_personas)

    def oracle(prompts, temperature, n):
        out = []
        for p in prompts:
            q = p.split("<|user|>")[-1].split("</s>")[0].strip()
            ans = "zero ."
            for persona in ps:
                if f"you are {persona.name} " not in p:
                    continue
                stage = persona.stages[-1] if "<TIME-II>" in q or "<TIME" not in q else "I"
                for t, s in persona.stances[stage].items():
                    if f" {t} " in f" {q} ":
                        ans = f"no , {L.stance_answer(s, t)}"
                for k, v in persona.facts[stage].items():
                    if f" {k} " in f" {q} ":
                        ans = f"no , {L.fact_answer(k, v)}"
            out.append([ans] * n)
        return out

    m, _ = evaluate_model(oracle, tok, ps, "persllm", bleu_prompts=2)
    assert m["stance_consistency"] == 1.0 and m["stage_sensitivity"] == 1.0
    assert m["induction_resistance"] == 1.0 and m["fact_accuracy"] == 1.0
    assert m["bleu_intra"] == pytest.approx(100.0)

    def sycophant(prompts, temperature, n):
        return [[p.split("<|user|>")[-1].split("</s>")[0]] * n for p in prompts]

    m, _ = evaluate_model(sycophant, tok, ps, "persllm", bleu_prompts=0)
    assert m["induction_resistance"] == 0.0


def test_questionnaire_scores_keyed_items_and_spreads(world_personas, tiny):
    from ennead.persllm.questionnaire import AGREE, ITEMS, interview, spread

    _, tok = tiny
    ps = load_personas(world_personas)
    extravert = ps[0].name

    def scorer(pairs):
        # the first persona agrees with everything extraverted, the other with nothing
        out = []
        for prompt, cont in pairs:
            pos = any(t in prompt for tr, t, k in ITEMS if tr == "extraversion" and k > 0)
            agree = (f"you are {extravert} " in prompt) == pos
            out.append(0.0 if (cont == AGREE) == agree else -5.0)
        return out

    traits = interview(scorer, tok, ps, "persllm")
    assert traits[ps[0].key]["I"]["extraversion"] > 0.95
    assert traits[ps[1].key]["I"]["extraversion"] < 0.05
    d = spread(traits)
    assert d["trait_distance_inter"] > 0.1 and d["trait_distance_stage"] == 0.0
