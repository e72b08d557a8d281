"""`python -m reference_model` wiring: train flags map onto TrainConfig, preset choices come from PRESETS."""

import dataclasses

import pytest

pytest.importorskip("tensorflow")

import reference_model.train as training  # noqa: E402
from reference_model.cli import build_parser, main  # noqa: E402
from reference_model.model import PRESETS  # noqa: E402
from reference_model.train import TrainConfig  # noqa: E402


def _train_action(name):
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    return {a.dest: a for a in sub.choices["train"]._actions}[name]


def test_every_train_setting_is_a_flag_and_presets_come_from_the_model():
    for field in dataclasses.fields(TrainConfig):
        _train_action(field.name)
    assert tuple(_train_action("arch").choices) == tuple(PRESETS)


def test_omitted_flags_keep_train_config_defaults(monkeypatch):
    seen = []
    monkeypatch.setattr(training, "train", lambda cfg: seen.append(cfg) or {})
    assert main(["train", "--data", "d", "--out", "o", "--steps", "7", "--arch", "tiny", "--mixed-precision"]) == 0
    assert seen == [TrainConfig(data="d", out="o", steps=7, arch="tiny", mixed_precision=True)]
