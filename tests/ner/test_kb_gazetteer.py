"""KB gazetteer features: a model's gazetteer words come from the KB it runs with, not its directory."""

import json

import numpy as np
import pytest

from kgpipe.ner.albert import AlbertConfig
from kgpipe.ner.config import HeadConfig, NerConfig
from kgpipe.ner.data import Example, write_column_file

SHOP = [Example("华为手机很好用", ((0, 2, "BRAND"), (2, 4, "PRODUCT"))),
        Example("戴森吹风机不错", ((0, 2, "BRAND"), (2, 5, "PRODUCT")))] * 15
KB = [{"id": "kgp:huawei", "name": "华为", "aliases": ["Huawei"], "types": ["Organization", "Brand"]},
      {"id": "kgp:mate", "name": "Mate 60", "aliases": [], "types": ["Product"]},
      {"id": "kgp:beijing", "name": "北京", "aliases": [], "types": ["City"]}]


def _write_kb(path, entities):
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entities), "utf-8")
    return path


def _config(tmp_path, name, **kw):
    from kgpipe.ner.training import Corpus, TrainConfig

    albert = AlbertConfig(vocab_size=1, embedding_size=8, hidden_size=8, num_hidden_layers=0,
                          num_attention_heads=2, intermediate_size=8, max_position_embeddings=16)
    model = NerConfig(albert=albert, heads=(HeadConfig("x", ("X",)),), bigram_dim=4, lstm_units=4,
                      max_sequence_length=16, bucket_lengths=(16,), name=name)
    kw.setdefault("gazetteer_folds", 0)
    if kw.get("kb_gazetteer"):
        from kgpipe.pipeline.kb_names import KbNames
        kw.setdefault("kb_names", KbNames())
    return TrainConfig(output_dir=str(tmp_path / name), model=model, lexicon_jieba=False,
                       corpora=(Corpus("shop", str(tmp_path / "shop.txt"), {}, 4),), batch_size=8,
                       time_budget_s=60, eval_every_s=1000, max_epochs=1, **kw)


def test_names_by_type_reads_names_and_aliases_of_the_types_asked(tmp_path):
    from kgpipe.linking.kb import names_by_type

    kb = _write_kb(tmp_path / "kb.jsonl", KB)
    assert names_by_type(kb, {"BRAND": ["Brand"], "PRODUCT": ["Product"], "PER": ["Human"]}) == {
        "BRAND": ["华为", "Huawei"], "PRODUCT": ["Mate 60"], "PER": []}


def test_a_kb_gazetteer_model_starts_from_its_init_model_and_reads_its_words_from_the_kb(tmp_path):
    from kgpipe.ner.model_dir import load_featurizer, load_model_dir, read_meta
    from kgpipe.ner.tagger import MentionTagger
    from kgpipe.ner.training import Trainer
    from kgpipe.pipeline.kb_names import KbNames

    write_column_file(tmp_path / "shop.txt", SHOP, "BIO")
    kb = _write_kb(tmp_path / "kb.jsonl", KB)
    Trainer(_config(tmp_path, "plain")).run()
    init_dir = tmp_path / "plain" / "best"
    init, init_featurizer, _ = load_model_dir(init_dir)

    outside = tmp_path / "brands.txt"
    outside.write_text("戴森\n小米\n", "utf-8")
    config = _config(tmp_path, "kbg", init_model=str(init_dir), gazetteer_folds=2, kb_names=KbNames(str(kb)),
                     kb_gazetteer=(("BRAND", ("Brand",)), ("PRODUCT", ("Product",))),
                     kb_gazetteer_names=(("BRAND", str(outside)),))
    trainer = Trainer(config)
    trainer.prepare()
    trainer.build()
    assert trainer.featurizer.gazetteer.categories == ("G_BRAND", "G_PRODUCT")
    # The gazetteer's inputs start at zero weight: the run starts from the init model's emissions.
    text = "华为Mate 60手机"
    before = init(_inputs(init_featurizer, text))
    after = trainer.model(_inputs(trainer.featurizer, text))
    assert _inputs(trainer.featurizer, text)["lexicon"].any()  # 华为 and Mate 60 are in the KB
    for head in before:
        np.testing.assert_allclose(np.asarray(after[head]), np.asarray(before[head]), atol=1e-5)

    trainer.run()
    best = tmp_path / "kbg" / "best"
    meta = read_meta(best)
    assert meta["gazetteer"]["kb_types"] == {"BRAND": ["Brand"], "PRODUCT": ["Product"]}
    assert not (best / "gazetteer.txt").exists()  # no words in the model directory
    assert "戴森" not in (best / "config.json").read_text("utf-8")

    with_kb = load_featurizer(best, meta, kb_names=KbNames(str(kb))).gazetteer
    assert with_kb.features("华为").any()
    none = KbNames(str(_write_kb(tmp_path / "none.jsonl", KB[2:])))
    assert not load_featurizer(best, meta, kb_names=none).gazetteer.features("华为").any()
    bundled = load_featurizer(best, meta, kb_names=KbNames()).gazetteer  # 华为 is a Brand there
    assert bundled.features("华为").any()
    tagger = MentionTagger.load(best, kb_names=KbNames(str(kb)))
    assert tagger.featurizer.gazetteer.features("华为").any()
    with pytest.raises(ValueError, match=r"has KB gazetteer features .*'BRAND': \['Brand'\]"):
        MentionTagger.load(best)


def _inputs(featurizer, text):
    f = featurizer(text)
    return {"token_ids": np.asarray(f.token_ids, np.int32)[None],
            "bigram_ids": np.asarray(f.bigram_ids, np.int32)[None],
            "lexicon": np.asarray(f.lexicon, np.float32)[None]}


def test_kb_gazetteer_options_are_checked(tmp_path):
    write_column_file(tmp_path / "shop.txt", SHOP, "BIO")
    with pytest.raises(ValueError, match="gazetteer_folds > 0"):
        _config(tmp_path, "a", kb_gazetteer=(("BRAND", ("Brand",)),))
    with pytest.raises(ValueError, match="not a `kb_gazetteer` label"):
        _config(tmp_path, "b", gazetteer_folds=2, kb_gazetteer=(("BRAND", ("Brand",)),),
                kb_gazetteer_names=(("PER", str(tmp_path / "shop.txt")),))
    with pytest.raises(ValueError, match="needs `kb_gazetteer`"):
        _config(tmp_path, "c", kb_gazetteer_names=(("BRAND", str(tmp_path / "shop.txt")),))


def test_the_pipelines_ner_stage_and_ner_eval_read_the_runs_kb(tmp_path, capsys):
    from kgpipe.ner.training import Trainer
    from kgpipe.pipeline.cli import main
    from kgpipe.pipeline.handlers import NerConfig, NerModelHandler

    write_column_file(tmp_path / "shop.txt", SHOP, "BIO")
    kb = _write_kb(tmp_path / "kb.jsonl", KB)
    Trainer(_config(tmp_path, "kbg", gazetteer_folds=2, kb_gazetteer=(("BRAND", ("Brand",)),))).run()
    best = tmp_path / "kbg" / "best"
    none = _write_kb(tmp_path / "none.jsonl", KB[2:])
    for path, hit in ((kb, True), (none, False)):
        tagger = NerModelHandler(NerConfig(model_dir=str(best), kb=str(path))).load_model()
        assert tagger.featurizer.gazetteer.features("华为手机").any() == hit
    assert main(["ner", "eval", "--model", str(best), "--data", str(tmp_path / "shop.txt"),
                 "--kb", str(kb), "--json"]) == 0
    out = capsys.readouterr().out
    assert json.loads(out[out.index("{"):])["per_type"].keys() == {"BRAND", "PRODUCT"}


def test_fold_and_kb_gazetteers_give_a_name_the_same_features():
    from kgpipe.ner.lexicon import build_gazetteer, kb_gazetteer

    seen_often = [Example("华为手机", ((0, 2, "BRAND"),))] * 7
    folds = build_gazetteer(seen_often, {"BRAND"}, names={"BRAND": ["法雷奥", "VALEO"]}, once=True)
    kb = kb_gazetteer({"BRAND": ["华为", "HUAWEI", "华为", "法雷奥（VALEO）"]}, {"BRAND": ["Brand"]})
    for text in ("华为手机", "法雷奥雨刮", "valeo雨刮"):
        np.testing.assert_array_equal(folds.features(text), kb.features(text))
    assert kb.features("valeo雨刮").any()


def test_a_resumed_run_needs_the_kb_gazetteer_it_started_with(tmp_path):
    from kgpipe.ner.training import Trainer

    write_column_file(tmp_path / "shop.txt", SHOP, "BIO")
    Trainer(_config(tmp_path, "run", gazetteer_folds=2, kb_gazetteer=(("BRAND", ("Brand",)),))).run()
    for other in ((("PRODUCT", ("Product",)),), ()):
        with pytest.raises(ValueError, match="resume it with the same --kb-gazetteer"):
            Trainer(_config(tmp_path, "run", gazetteer_folds=2, kb_gazetteer=other)).prepare()
    with pytest.raises(ValueError, match=r"no corpus has"):
        Trainer(_config(tmp_path, "new", gazetteer_folds=2, kb_gazetteer=(("Brand", ("Brand",)),))).prepare()
