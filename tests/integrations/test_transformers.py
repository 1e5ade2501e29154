"""VatioCallback in a real transformers Trainer: a tiny BERT built in the test (no
download), a random padded dataset, two epochs on CPU, scripted sensors."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("accelerate")

from transformers import (  # noqa: E402
    BertConfig,
    BertForSequenceClassification,
    Trainer,
    TrainingArguments,
)

from tests.measure.fakes import ConstantPowerSensor  # noqa: E402
from vatio.integrations.training import TOKENS_FROM_MASK, training_section  # noqa: E402
from vatio.integrations.transformers import VatioCallback  # noqa: E402

SEQ = 8


class Padded(torch.utils.data.Dataset):
    """Sequences of 3..8 real tokens padded to 8, so padding and tokens differ."""

    def __init__(self, n: int, seed: int) -> None:
        generator = torch.Generator().manual_seed(seed)
        self.items = []
        for i in range(n):
            length = 3 + i % (SEQ - 2)
            ids = torch.randint(1, 50, (SEQ,), generator=generator)
            mask = (torch.arange(SEQ) < length).long()
            self.items.append({"input_ids": ids * mask, "attention_mask": mask, "labels": i % 2})

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict:
        return self.items[i]


def tiny_bert():
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=50,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=SEQ,
        num_labels=2,
    )
    return BertForSequenceClassification(config)


def test_epochs_are_phases_and_training_batches_are_work(tmp_path):
    train, evaluation = Padded(12, seed=1), Padded(4, seed=2)
    callback = VatioCallback("tiny-bert", store=False, sensors=[ConstantPowerSensor(watts=30)])
    args = TrainingArguments(
        output_dir=str(tmp_path / "out"),
        num_train_epochs=2,
        per_device_train_batch_size=4,
        per_device_eval_batch_size=4,
        eval_strategy="epoch",  # evaluation forward passes must not count as work
        save_strategy="no",
        logging_strategy="no",
        report_to=[],
        use_cpu=True,
        disable_tqdm=True,
    )
    trainer = Trainer(
        model=tiny_bert(), args=args, train_dataset=train, eval_dataset=evaluation,
        callbacks=[callback],
    )  # fmt: skip
    trainer.train()

    result = callback.result
    assert result.status == "completed" and result.name == "tiny-bert"
    assert [p.name for p in result.phases] == ["epoch-1", "epoch-2"]
    assert all(p.energy_j > 0 for p in result.phases)
    tokens = 2 * sum(int(item["attention_mask"].sum()) for item in train.items)
    assert tokens < 2 * 12 * SEQ  # padding is not counted
    assert result.work == {"samples": 24.0, "tokens": float(tokens)}
    section = training_section(result)
    assert section["framework"] == "transformers"
    assert section["batches"] == 6 and section["samples"] == 24 and section["tokens"] == tokens
    assert section["tokens_method"] == TOKENS_FROM_MASK
    assert section["epochs_measured"] == 2 and section["global_steps"] == 6
    assert section["flops"] == pytest.approx(trainer.state.total_flos) and section["flops"] > 0
    assert "total_flos" in section["flops_method"]
    assert callback._hook is None  # the forward hook is removed with the run

    # the report (and its EU AI Act section) takes the FLOPs from the training extension
    from vatio.report.build import build_report
    from vatio.report.schema import validation_errors

    report = build_report([result.to_dict()])
    assert report["runs"][0]["flops"]["source"] == "training"
    assert report["runs"][0]["flops"]["value"] == section["flops"]
    assert validation_errors(report) == []
