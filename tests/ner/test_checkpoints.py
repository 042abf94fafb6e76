"""ner.checkpoints: tiny TF1 checkpoints in both layouts, imported and checked against numpy."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kgpipe.ner import checkpoints
from kgpipe.ner.albert import AlbertConfig, AlbertEncoder
from tests.ner import albert_reference, ckpt_factory

LAYOUTS = ("brightmart", "google")

# Two sequences of different lengths (0 pads the first), both token types, every position compared.
TOKEN_IDS = np.array([[2, 7, 9, 11, 3, 12, 3, 0, 0, 0],
                      [2, 5, 6, 8, 29, 13, 3, 14, 15, 3]], dtype=np.int32)
SEGMENT_IDS = np.array([[0, 0, 0, 0, 0, 1, 1, 0, 0, 0],
                        [0, 0, 0, 0, 0, 0, 0, 1, 1, 1]], dtype=np.int32)
INPUT_MASK = (TOKEN_IDS != 0).astype(np.int32)


def _checkpoint(tmp_path, layout, *, seed=0, training=True, edit=None, **overrides):
    """Writes a tiny released-style model directory; returns (dir, config, encoder variables)."""
    rng = np.random.default_rng(seed)
    config = ckpt_factory.tiny_config(layout, **overrides)
    encoder_vars = ckpt_factory.encoder_variables(config, layout, rng)
    variables = dict(encoder_vars)
    if training:
        variables.update(ckpt_factory.training_variables(config, encoder_vars, rng))
    if edit is not None:
        edit(variables)
    directory = ckpt_factory.write_albert_dir(tmp_path / f"{layout}_ckpt", config, variables,
                                              config_name=f"albert_config_{layout}.json")
    return directory, config, encoder_vars


def _assert_matches_reference(encoder_dir, config, encoder_vars, layout):
    encoder = checkpoints.load_encoder(encoder_dir)
    got = np.asarray(encoder(TOKEN_IDS, SEGMENT_IDS, INPUT_MASK))
    want, used = albert_reference.sequence_output(encoder_vars, config, layout, TOKEN_IDS,
                                                  SEGMENT_IDS, INPUT_MASK)
    assert used == set(encoder_vars), "the reference must read every encoder variable"
    assert got.shape == (2, 10, config["hidden_size"])
    np.testing.assert_allclose(got, want, atol=1e-4, rtol=0)
    # Padding must not leak: changing padded tokens changes nothing at real positions.
    noisy = np.where(INPUT_MASK == 1, TOKEN_IDS, 17).astype(np.int32)
    again = np.asarray(encoder(noisy, SEGMENT_IDS, INPUT_MASK))
    np.testing.assert_allclose(again[INPUT_MASK == 1], got[INPUT_MASK == 1], atol=1e-5)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_import_matches_numpy_reference(tmp_path, layout):
    directory, config, encoder_vars = _checkpoint(tmp_path, layout)
    out = checkpoints.import_checkpoint(directory, tmp_path / "encoder")

    assert out == tmp_path / "encoder"
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [checkpoints.CONFIG_FILE, checkpoints.VOCAB_FILE, checkpoints.WEIGHTS_FILE,
         checkpoints.REPORT_FILE])
    assert (out / "vocab.txt").read_bytes() == (directory / "vocab.txt").read_bytes()
    saved = json.loads((out / checkpoints.CONFIG_FILE).read_text())
    assert saved["embedding_layout"] == layout
    assert saved["hidden_size"] == 16 and saved["embedding_size"] == 8
    report = json.loads((out / checkpoints.REPORT_FILE).read_text())
    assert "global_step" in report["ignored"]
    assert "bert/pooler/dense/kernel" in report["ignored"]
    assert "cls/predictions/output_bias" in report["ignored"]
    assert "bert/embeddings/word_embeddings/adam_m" in report["ignored"]
    assert report["synthesised"] == []
    _assert_matches_reference(out, config, encoder_vars, layout)


def test_brightmart_preln_matches_reference(tmp_path):
    directory, config, encoder_vars = _checkpoint(tmp_path, "brightmart", ln_type="preln")
    out = checkpoints.import_checkpoint(directory, tmp_path / "encoder")
    assert json.loads((out / checkpoints.CONFIG_FILE).read_text())["ln_type"] == "preln"
    _assert_matches_reference(out, config, encoder_vars, "brightmart")


@pytest.mark.parametrize("layers,groups,inner,expected_groups", [
    (4, 2, 1, 2),   # two groups of two layers
    (2, 4, 1, 2),   # Google uses groups 0 and 2 only: renumbered 0, 1 (the *_google_fast case)
    (2, 1, 2, 1),   # two inner layers per group
    (3, 2, 1, 2),   # uneven runs: layers use groups 0, 0, 1
    (5, 2, 1, 2),   # uneven runs: 0, 0, 0, 1, 1
    (5, 7, 1, 5),   # more groups than layers, some unused: 0, 1, 2, 4, 5 renumbered 0..4
])
def test_google_groups_match_reference(tmp_path, layers, groups, inner, expected_groups):
    directory, config, encoder_vars = _checkpoint(
        tmp_path, "google", num_hidden_layers=layers, num_hidden_groups=groups,
        inner_group_num=inner)
    out = checkpoints.import_checkpoint(directory, tmp_path / "encoder")
    saved = json.loads((out / checkpoints.CONFIG_FILE).read_text())
    assert (saved["num_hidden_groups"], saved["inner_group_num"]) == (expected_groups, inner)
    _assert_matches_reference(out, config, encoder_vars, "google")


def test_google_without_hidden_mapping_uses_identity(tmp_path):
    # Google's modeling.py has no embedding_hidden_mapping_in when embedding_size == hidden_size.
    directory, config, encoder_vars = _checkpoint(tmp_path, "google", embedding_size=16)
    assert not any("embedding_hidden_mapping_in" in name for name in encoder_vars)
    out = checkpoints.import_checkpoint(directory, tmp_path / "encoder")
    report = json.loads((out / checkpoints.REPORT_FILE).read_text())
    assert report["synthesised"] == ["bert/encoder/embedding_hidden_mapping_in/bias",
                                      "bert/encoder/embedding_hidden_mapping_in/kernel"]
    _assert_matches_reference(out, config, encoder_vars, "google")


@pytest.mark.parametrize("layout", LAYOUTS)
def test_load_checkpoint_weights_returns_every_encoder_weight(tmp_path, layout):
    directory, _, encoder_vars = _checkpoint(tmp_path, layout)
    loaded = checkpoints.load_checkpoint_weights(directory)
    names = [name for name, _ in AlbertEncoder(loaded.config).named_weights()]
    assert sorted(loaded.weights) == sorted(names) == sorted(encoder_vars)
    for name, value in loaded.weights.items():
        assert value.dtype == np.float32
        np.testing.assert_array_equal(value, encoder_vars[name])


def test_prefix_without_state_file_and_explicit_paths(tmp_path):
    # Released albert_zh zips ship `albert_model.ckpt.*` without a `checkpoint` state file.
    rng = np.random.default_rng(3)
    config = ckpt_factory.tiny_config("brightmart")
    variables = ckpt_factory.encoder_variables(config, "brightmart", rng)
    directory = ckpt_factory.write_albert_dir(tmp_path / "release", config, variables,
                                              state_file=False)
    assert not (directory / "checkpoint").exists()
    assert checkpoints.resolve_checkpoint_prefix(directory) == str(directory / "albert_model.ckpt")
    out = checkpoints.import_checkpoint(
        directory / "albert_model.ckpt", tmp_path / "encoder",
        config_path=directory / "albert_config.json", vocab_path=directory / "vocab.txt")
    _assert_matches_reference(out, config, variables, "brightmart")


EXTRA = {"brightmart": "bert/encoder/layer_shared/attention/self/query_2/kernel",
         "google": "bert/encoder/transformer/group_0/inner_group_0/attention_2/self/query/kernel"}
DROPPED = {"brightmart": "bert/encoder/layer_shared/intermediate/dense/bias",
           "google": "bert/encoder/transformer/group_0/inner_group_0/LayerNorm_1/gamma"}
RESHAPED = {"brightmart": "bert/embeddings/position_embeddings",
            "google": "bert/encoder/embedding_hidden_mapping_in/kernel"}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_unmapped_variable_raises_with_its_name(tmp_path, layout):
    def add(variables):
        variables[EXTRA[layout]] = np.zeros((16, 16), np.float32)
    directory, _, _ = _checkpoint(tmp_path, layout, edit=add)
    with pytest.raises(ValueError, match="unmapped checkpoint variables") as error:
        checkpoints.import_checkpoint(directory, tmp_path / "encoder")
    assert EXTRA[layout] in str(error.value)
    assert not (tmp_path / "encoder").exists()


@pytest.mark.parametrize("layout", LAYOUTS)
def test_missing_variable_raises_with_its_name(tmp_path, layout):
    def drop(variables):
        del variables[DROPPED[layout]]
    directory, _, _ = _checkpoint(tmp_path, layout, edit=drop)
    with pytest.raises(ValueError, match="missing variables") as error:
        checkpoints.import_checkpoint(directory, tmp_path / "encoder")
    assert DROPPED[layout] in str(error.value)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_wrong_shape_raises_with_its_name(tmp_path, layout):
    def reshape(variables):
        value = variables[RESHAPED[layout]]
        variables[RESHAPED[layout]] = np.zeros((value.shape[0], value.shape[1] + 1), np.float32)
    directory, _, _ = _checkpoint(tmp_path, layout, edit=reshape)
    with pytest.raises(ValueError, match="wrong shapes") as error:
        checkpoints.import_checkpoint(directory, tmp_path / "encoder")
    assert RESHAPED[layout] in str(error.value)


def test_unknown_layout_raises():
    with pytest.raises(ValueError, match="cannot tell the ALBERT layout"):
        checkpoints.plan_import({"bert/embeddings/word_embeddings": [30, 8],
                                 "bert/encoder/layer_0/attention/self/query/kernel": [16, 16]},
                                ckpt_factory.tiny_config("brightmart"))


def test_brightmart_null_ln_type_is_post_ln(tmp_path):
    # albert_zh configs may say "ln_type": null; brightmart's modeling.py then runs post-LN.
    directory, config, encoder_vars = _checkpoint(tmp_path, "brightmart", ln_type=None)
    out = checkpoints.import_checkpoint(directory, tmp_path / "encoder")
    assert json.loads((out / checkpoints.CONFIG_FILE).read_text())["ln_type"] == "postln"
    _assert_matches_reference(out, config, encoder_vars, "brightmart")


@pytest.mark.parametrize("option,value", [("net_structure_type", 1), ("down_scale_factor", 2),
                                          ("gap_size", 3), ("num_memory_blocks", 4)])
def test_unsupported_config_option_raises_with_its_name(option, value):
    config = ckpt_factory.tiny_config("google", **{option: value})
    variables = ckpt_factory.encoder_variables(config, "google", np.random.default_rng(0))
    with pytest.raises(ValueError, match=f"unsupported ALBERT config options.*'{option}': {value}"):
        checkpoints.plan_import({n: v.shape for n, v in variables.items()}, config)


def test_unsupported_activation_raises_with_its_name(tmp_path):
    directory, _, _ = _checkpoint(tmp_path, "brightmart", hidden_act="mish")
    with pytest.raises(ValueError, match="hidden_act='mish'"):
        checkpoints.import_checkpoint(directory, tmp_path / "encoder")


def test_config_without_shape_fields_raises():
    config = ckpt_factory.tiny_config("google")
    variables = ckpt_factory.encoder_variables(config, "google", np.random.default_rng(0))
    del config["type_vocab_size"]
    with pytest.raises(ValueError, match="type_vocab_size"):
        checkpoints.plan_import({n: v.shape for n, v in variables.items()}, config)


def test_vocab_size_mismatch_raises(tmp_path):
    directory, _, _ = _checkpoint(tmp_path, "google", training=False)
    (directory / "vocab.txt").write_text("[PAD]\n[UNK]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="2 lines but the word embeddings have 30 rows"):
        checkpoints.import_checkpoint(directory, tmp_path / "encoder")


def test_assign_rejects_weights_for_another_layout(tmp_path):
    directory, _, _ = _checkpoint(tmp_path, "brightmart", training=False)
    loaded = checkpoints.load_checkpoint_weights(directory)
    google = AlbertEncoder(AlbertConfig.from_dict(
        {**loaded.config.to_dict(), "embedding_layout": "google"}))
    with pytest.raises(ValueError, match="bert/embeddings/word_embeddings_2"):
        checkpoints.assign_encoder_weights(google, loaded.weights)


def test_stale_state_file_falls_back_to_the_only_index(tmp_path):
    # A `checkpoint` file written on the training machine names a path that does not exist here.
    directory, config, encoder_vars = _checkpoint(tmp_path, "google", training=False)
    (directory / "checkpoint").write_text(
        'model_checkpoint_path: "/nonexistent/tpu/model.ckpt-125000"\n', encoding="utf-8")
    assert checkpoints.resolve_checkpoint_prefix(directory) == str(directory / "albert_model.ckpt")
    out = checkpoints.import_checkpoint(directory, tmp_path / "encoder")
    _assert_matches_reference(out, config, encoder_vars, "google")


class _EncoderWithUnlistedWeight(AlbertEncoder):
    """An encoder that owns a weight ``named_weights()`` forgets: the import must not pass."""

    def build(self, input_shape=None):
        super().build(input_shape)
        self.unlisted = self.add_weight(shape=(3,), initializer="zeros", name="unlisted_table")


def test_assign_fails_on_encoder_weight_not_in_named_weights(tmp_path):
    directory, _, _ = _checkpoint(tmp_path, "brightmart", training=False)
    loaded = checkpoints.load_checkpoint_weights(directory)
    with pytest.raises(ValueError, match="left unset.*unlisted_table"):
        checkpoints.assign_encoder_weights(_EncoderWithUnlistedWeight(loaded.config),
                                           loaded.weights)


def test_cli_import_albert(tmp_path, capsys):
    from kgpipe.pipeline.commands import ner as ner_commands

    directory, config, encoder_vars = _checkpoint(tmp_path, "brightmart")
    out = tmp_path / "encoder"
    assert ner_commands.main(["import-albert", "--checkpoint", str(directory),
                              "--out", str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    _assert_matches_reference(out, config, encoder_vars, "brightmart")


def test_cli_import_albert_with_config_and_vocab_flags(tmp_path, capsys):
    from kgpipe.pipeline.commands import ner as ner_commands

    directory, config, encoder_vars = _checkpoint(tmp_path, "google")
    (directory / "albert_config_google.json").rename(directory / "config_of_model.json")
    (directory / "vocab.txt").rename(directory / "chars.vocab")
    out = tmp_path / "encoder"
    with pytest.raises(ValueError, match="ALBERT config"):
        ner_commands.main(["import-albert", "--checkpoint", str(directory), "--out", str(out)])
    with pytest.raises(ValueError, match="no vocabulary"):
        ner_commands.main(["import-albert", "--checkpoint", str(directory), "--out", str(out),
                           "--config", str(directory / "config_of_model.json")])
    assert ner_commands.main(["import-albert", "--checkpoint", str(directory), "--out", str(out),
                              "--config", str(directory / "config_of_model.json"),
                              "--vocab", str(directory / "chars.vocab")]) == 0
    assert (out / "vocab.txt").read_bytes() == (directory / "chars.vocab").read_bytes()
    _assert_matches_reference(out, config, encoder_vars, "google")
