"""`ner train --init-model`: a run starts from a saved model's vocabularies and weights."""

import numpy as np
import pytest

from kgpipe.ner.albert import AlbertConfig
from kgpipe.ner.config import HeadConfig, NerConfig
from kgpipe.ner.data import Example, write_column_file

NEWS = [Example("张三在北京工作。", ((0, 2, "PER"), (3, 5, "LOC")))] * 30
SHOP = [Example("华为手机很好用", ((0, 2, "BRAND"), (2, 4, "PRODUCT")))] * 30


def _config(tmp_path, name, corpora, **kw):
    from kgpipe.ner.training import TrainConfig

    albert = AlbertConfig(vocab_size=1, embedding_size=8, hidden_size=8, num_hidden_layers=0,
                          num_attention_heads=2, intermediate_size=8, max_position_embeddings=16)
    model = NerConfig(albert=albert, heads=(HeadConfig("x", ("X",)),), bigram_dim=4, lstm_units=4,
                      max_sequence_length=16, bucket_lengths=(16,), name=name)
    return TrainConfig(output_dir=str(tmp_path / name), model=model, lexicon_jieba=False,
                       corpora=corpora, gazetteer_folds=0, batch_size=8, time_budget_s=60,
                       eval_every_s=1000, max_epochs=1, **kw)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("warm")
    write_column_file(root / "news.txt", NEWS, "BIO")
    write_column_file(root / "shop.txt", SHOP, "BIO")
    return root


def test_warm_start_copies_shared_and_same_named_head_weights(files, tmp_path):
    from kgpipe.ner.model_dir import load_model_dir
    from kgpipe.ner.training import Corpus, Trainer

    first = _config(tmp_path, "first", (Corpus("news", str(files / "news.txt"), {}, 3),))
    Trainer(first).run()
    saved, featurizer, _ = load_model_dir(tmp_path / "first" / "best")

    second = _config(tmp_path, "second", (Corpus("news", str(files / "news.txt"), {}, 3),
                                          Corpus("shop", str(files / "shop.txt"), {}, 3)),
                     init_model=str(tmp_path / "first" / "best"))
    trainer = Trainer(second)
    trainer.prepare()
    trainer.build()
    # The saved model's vocabularies, not ones rebuilt from this run's text (which has 华为).
    assert trainer.featurizer.tokenizer.vocab == featurizer.tokenizer.vocab
    assert [h.name for h in trainer.model_config.heads] == ["news", "shop"]
    copied = {v.path.split("/", 1)[1]: v.numpy() for v in trainer.model.weights}
    for v in saved.weights:
        key = v.path.split("/", 1)[1]
        match = [k for k in copied if k.split("/")[0] == key.split("/")[0]
                 and k.rsplit("/", 1)[-1] == key.rsplit("/", 1)[-1]
                 and copied[k].shape == v.shape and np.array_equal(copied[k], v.numpy())]
        assert match, f"{key} was not copied"
    shop = [v for v in trainer.model.weights if "/head_shop/" in v.path]
    assert shop  # the new head exists and trains from its random start
    # The EMA starts from the copied weights, so the first evaluation is the saved model's.
    for shadow, v in zip(trainer.ema, trainer.model.weights):
        np.testing.assert_array_equal(shadow.numpy(), v.numpy())


def test_warm_start_refuses_other_labels_and_clashing_options(files, tmp_path):
    from kgpipe.ner.training import Corpus, Trainer

    Trainer(_config(tmp_path, "first", (Corpus("news", str(files / "news.txt"), {}, 3),))).run()
    init = str(tmp_path / "first" / "best")
    relabelled = _config(tmp_path, "other", (Corpus("news", str(files / "shop.txt"), {}, 3),),
                         init_model=init)
    with pytest.raises(ValueError, match="head 'news' has labels"):
        Trainer(relabelled).prepare()
    with pytest.raises(ValueError, match="pretrain_epochs"):
        _config(tmp_path, "clash", (Corpus("news", str(files / "news.txt"), {}, 3),),
                init_model=init, pretrain_epochs=2)
    with pytest.raises(ValueError, match="not a kgpipe model directory"):
        _config(tmp_path, "none", (Corpus("news", str(files / "news.txt"), {}, 3),),
                init_model=str(tmp_path))
