"""The learned model: training on the labelled corpus, reading paraphrases, the file, the lexicon."""

from __future__ import annotations

import shutil

import pytest
from conftest import DATA, corpus

from qa_toolkit.errors import LexiconError
from qa_toolkit.rules.classifier import Classifier, grams, labelled_turns, train
from qa_toolkit.rules.loader import default_lexicon_dir, load_lexicon
from qa_toolkit.text.normalize import normalize
from qa_toolkit.types import Segment, Transcript


@pytest.fixture(scope="module")
def small_model():
    turns = labelled_turns(corpus("corpus_dev.jsonl") + corpus("corpus_dev2.jsonl"))
    return train(turns, ["threat", "harassment"], iterations=200)


def test_grams_are_characters_pairs_and_triples():
    assert grams("你等着") == {"你", "等", "着", "你等", "等着", "你等着"}


def test_labelled_turns_take_agent_turns_with_their_gold_categories():
    turns = labelled_turns(corpus("corpus_dev.jsonl"))
    assert len(turns) == sum(s.speaker == "agent" for t in corpus("corpus_dev.jsonl") for s in t.segments)
    assert sum("threat" in cats for _, cats in turns) >= 30
    assert all(text == normalize(text).text for text, _ in turns[:50])


def test_model_separates_turns_it_never_saw(small_model):
    # trained on dev and dev2 only: scored on another writer's corpus
    turns = labelled_turns(corpus("corpus_dev4.jsonl"))
    threat = [small_model.probabilities(t)["threat"] for t, cats in turns if "threat" in cats]
    clean = [small_model.probabilities(t)["threat"] for t, cats in turns if not cats]
    assert sum(threat) / len(threat) > 2 * sum(clean) / len(clean)
    assert sum(p >= 0.8 for p in clean) / len(clean) < 0.05


def test_explain_names_ngrams_of_the_turn(small_model):
    text = normalize("你再不还钱，我们的人就去你家找你，你自己掂量。").text
    words = small_model.explain(text, "threat")
    assert words and all(w in text and len(w) > 1 for w in words)


def test_file_round_trip(small_model, tmp_path):
    path = tmp_path / "classifier.json.gz"
    small_model.save(path)
    back = Classifier.load(path)
    text = normalize("你等着，有你好受的").text
    assert back.probabilities(text) == pytest.approx(small_model.probabilities(text), abs=1e-4)
    assert set(back.categories) == {"threat", "harassment"}


def test_training_needs_both_classes():
    with pytest.raises(ValueError, match="positive and negative"):
        train([("你好", set()), ("再见", set())], ["threat"])


def _lexicon_copy(tmp_path):
    d = tmp_path / "lex"
    shutil.copytree(default_lexicon_dir(), d)
    return d


def test_a_classifier_rule_needs_the_model_file(tmp_path):
    d = _lexicon_copy(tmp_path)
    (d / "classifier.json.gz").unlink()
    with pytest.raises(LexiconError, match="classifier file 'classifier.json.gz'"):
        load_lexicon(d)
    header = (d / "lexicon.yaml").read_text(encoding="utf-8")
    (d / "lexicon.yaml").write_text(header.replace("classifier: classifier.json.gz\n", ""), encoding="utf-8")
    with pytest.raises(LexiconError, match="names no classifier file"):
        load_lexicon(d)


def test_the_model_is_part_of_the_lexicon_identity(tmp_path):
    d = _lexicon_copy(tmp_path)
    before = load_lexicon(d).content_hash
    model = Classifier.load(d / "classifier.json.gz")
    bias, weights = model.models["threat"]
    Classifier(model.idf, {**model.models, "threat": (bias + 0.5, weights)}, model.meta).save(d / "classifier.json.gz")
    assert load_lexicon(d).content_hash != before


def test_scanner_flags_a_paraphrase_no_pattern_knows(scanner):
    text = "你儿子那个幼儿园离你家不远吧，我们顺路。"  # no threat pattern knows this one
    t = Transcript("C1", (Segment(0.0, 4.0, "agent", text), Segment(4.5, 8.0, "customer", text)))
    found = [f for f in scanner.scan(t) if f.category == "threat"]
    assert [(f.segment, f.rule_id, f.evidence.matcher) for f in found] == [(0, "threat.learned", "classifier")]
    assert found[0].evidence.score >= 0.8 and "words:" in found[0].evidence.context[0]
    assert (found[0].start_char, found[0].end_char) == (0, len(text))  # the whole turn


def test_a_turn_a_pattern_flagged_is_not_flagged_again_by_the_model(scanner):
    text = "你闺女在实验小学念三年级吧？放学那条道儿，我们也挺熟的。"
    assert scanner.lexicon.classifier.probabilities(normalize(text).text)["threat"] >= 0.8
    found = [f for f in scanner.scan(Transcript("C2", (Segment(0.0, 6.0, "agent", text),))) if f.category == "threat"]
    assert found and all(f.evidence.matcher != "classifier" for f in found)


def test_train_command_names_a_category_without_examples(tmp_path, capsys):
    from qa_toolkit.cli import main

    out = tmp_path / "model.json"
    assert main(["lexicon", "train", str(DATA / "corpus_dev3.jsonl"), "--categories", "threat,bogus", "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "bogus" in err and "corpus_dev3.jsonl" in err
    assert not out.exists()
    assert main(["lexicon", "train", str(DATA / "corpus_dev3.jsonl"), "--categories", "threat", "--out", str(out)]) == 0
    assert Classifier.load(out).categories == ("threat",)
