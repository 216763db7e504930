"""The emotion model of quality inspection: trained on quality/data/emotion_train.yml, sensible on sentences it has
not seen (written here, not taken from the training file), and as accurate in cross-validation as measured."""

from __future__ import annotations

from pathlib import Path

import pytest

from quality.emotion import LABELS, EmotionModel, cross_validated_accuracy, read_examples

# 5-fold cross-validation on the training file measured 0.813-0.826 over three shuffles (2026-12-04); a drop
# below this floor means the data or the features broke.
ACCURACY_FLOOR = 0.77


@pytest.fixture(scope="module")
def model() -> EmotionModel:
    return EmotionModel.load()


def test_the_training_file_has_every_label() -> None:
    texts, labels = read_examples()
    assert len(texts) == len(labels) > 1000 and set(labels) == set(LABELS)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("你好，我想问一下怎么开通峰谷电", "calm"),
        ("户号我报一下三二零一零零零零零一", "calm"),
        ("求求你们快点吧家里老人要用制氧机的", "anxious"),
        ("你们这帮人到底干什么吃的！！！再不来电我就打12345投诉你们！", "angry"),
        ("太感谢了师傅来得真快，电已经来了", "satisfied"),
        ("行吧，每次都说马上马上，也就这样了", "dissatisfied"),
    ],
)
def test_unseen_sentences_get_sensible_labels(model: EmotionModel, text: str, label: str) -> None:
    assert model.predict([text]) == [label]


def test_blank_turns_are_calm_and_the_model_is_trained_once(model: EmotionModel) -> None:
    assert model.predict(["", "   ", "\n"]) == ["calm", "calm", "calm"]
    assert model.predict([]) == []
    assert EmotionModel.load() is model


def test_a_training_file_with_an_unknown_label_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "emotions.yml"
    bad.write_text("examples:\n  - {text: 气死我了, label: furious}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="example 1 has label 'furious'"):
        read_examples(bad)


def test_cross_validated_accuracy_stays_above_the_measured_floor() -> None:
    assert cross_validated_accuracy() >= ACCURACY_FLOOR
