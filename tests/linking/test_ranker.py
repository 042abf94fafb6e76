"""The trained ranker: link train -> linker directory -> link eval --linker, and bad gold input."""

import argparse
import json

import pytest

from kgpipe.linking.evaluation import GoldError, evaluate, read_gold, score
from kgpipe.linking.gold_formats import GoldFormat, GoldStats, UnknownGold, load_gold
from kgpipe.linking.index import AliasIndex
from kgpipe.linking.index_build import build_index
from kgpipe.linking.kb import KbError, iter_entities
from kgpipe.linking.linker import EntityLinker, LinkerConfig
from kgpipe.linking.ranker import LinkerDirError, load_linker_dir
from kgpipe.pipeline.commands import kb as kb_commands
from kgpipe.schemas.records import Candidate, Link

NAMES = ["高血压", "原发性高血压", "高血压性心脏病", "2型糖尿病", "糖尿病性低血糖症", "冠状动脉粥样硬化性心脏病",
         "不稳定性心绞痛", "骨质疏松", "膝关节游离体", "膝骨关节病", "乳腺恶性肿瘤", "肺部感染", "慢性胃炎", "脑梗死"]
NOISE = [("", "术后"), ("左侧", ""), ("", "待查"), ("慢性", "史"), ("", "（复查）"), ("疑似", "")]


def _chip_items() -> list[dict]:
    items = []
    for position, name in enumerate(NAMES):
        for before, after in NOISE:
            items.append({"text": before + name + after, "normalized_result": name})
        partner = NAMES[(position + 3) % len(NAMES)]
        items.append({"text": f"{name};{partner}", "normalized_result": f"{name}##{partner}"})
    return items


@pytest.fixture
def chip(tmp_path):
    kb = tmp_path / "kb.tsv"
    kb.write_text("id\tname\n" + "".join(f"C{i}\t{n}\n" for i, n in enumerate(NAMES)) + "C99\t高血压\n", "utf-8")
    gold = tmp_path / "gold.json"
    gold.write_text(json.dumps(_chip_items(), ensure_ascii=False, indent=2), "utf-8")
    index = build_index(iter_entities(kb), tmp_path / "index", name="kb", content_hash="0")
    return tmp_path, index, gold


def _run(argv) -> int:
    parser = argparse.ArgumentParser(prog="kgpipe")
    kb_commands.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


def test_chip_cdn_reader_groups_names_and_names_lines(chip):
    _, index, gold = chip
    documents = load_gold(gold, GoldFormat.CHIP_CDN, AliasIndex.open(index))
    assert len(documents) == len(NAMES) * (len(NOISE) + 1)
    first = documents[0]
    assert first.mentions[0].text == first.document.text == "高血压术后"  # the whole text is the mention
    assert first.target_groups() == ((frozenset({"C0", "C99"}),),)  # a name two KB rows share: one group
    assert first.sources == (f"{gold}:2",)
    multi = documents[len(NOISE)]
    assert [sorted(g) for g in multi.target_groups()[0]] == [["C0", "C99"], ["C3"]]


def test_train_save_reload_and_eval_cli(chip, capsys):
    tmp_path, index, gold = chip
    out = tmp_path / "linker"
    common = ["--kb", str(index), "--gold", str(gold), "--gold-format", "chip-cdn"]
    assert _run(["link", "train", *common, "--out", str(out), "--calibration-fraction", "0.2"]) == 0
    assert "kgpipe link train: wrote" in capsys.readouterr().out
    names = {p.name for p in out.iterdir()}
    assert {"linker.json", "memory_targets.npy", "memory_ngram_codes.npy"} <= names
    assert all(name.endswith((".json", ".txt", ".npy")) for name in names)  # no pickle
    spec, _ = load_linker_dir(out)
    assert {"calibration_accuracy_logistic", "calibration_accuracy_lightgbm", "chosen"} <= set(spec.metrics)
    assert _run(["link", "eval", "--linker", str(out), *common[2:], "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert scores["accuracy"] >= 0.9 and scores["candidate_recall_at_k"] == 1.0
    # reloaded twice: identical links (no hidden randomness at inference)
    documents = load_gold(gold, GoldFormat.CHIP_CDN, AliasIndex.open(index))
    first, second = (EntityLinker.load(LinkerConfig(linker_dir=str(out))) for _ in range(2))
    assert [first.link(d.document, d.mentions) for d in documents] == \
        [second.link(d.document, d.mentions) for d in documents]
    _check_run_linker_flag(out, spec, documents[0], first.link(documents[0].document, documents[0].mentions))


def _check_run_linker_flag(out, spec, gold, expected):
    """`kgpipe run --linker DIR`: the flag reaches RunConfig, and LinkMentionsFn links with the ranker."""
    from apache_beam.options.pipeline_options import PipelineOptions
    from apache_beam.utils import shared

    from kgpipe.pipeline.options import RunConfig
    from kgpipe.pipeline.run import LinkerConfig
    from kgpipe.pipeline.transforms import LinkMentionsFn

    config = RunConfig.from_options(PipelineOptions(["--input", "x.jsonl", "--output", "o", "--linker", str(out)]))
    assert config.linker_dir == str(out) and config.kb_path == spec.kb_path
    assert config.fingerprint()["linker"].startswith("linker@")
    function = LinkMentionsFn(LinkerConfig(kb_path=config.kb_path, linker_dir=config.linker_dir), shared.Shared())
    function.setup()
    (_, _, links), = list(function.process((gold.document, list(gold.mentions))))
    assert links == expected


def test_multi_target_scoring_counts_any_target_and_sets():
    def link(entity_id, alternatives):
        return Link(doc_id="d", start=0, end=1, text="x", label="", entity_id=entity_id, score=0.9,
                    alternatives=tuple(Candidate(a, s) for a, s in alternatives), nil_key=None)

    groups = (frozenset({"A", "A2"}), frozenset({"B"}))
    pairs = [(groups, link("A2", [("A2", 0.9), ("A", 0.8), ("B", 0.5), ("C", 0.4)])),
             (groups, link("C", [("C", 0.9), ("B", 0.2)]))]
    scores = score(pairs, k=5, set_threshold=0.45)
    assert scores.accuracy == 0.5 and scores.candidate_recall_at_k == 1.0
    # predicted sets: {A2, A (same group: once), B} and {C}: 2 right of 3 predicted, 2 of 4 targets
    assert (scores.set_precision, scores.set_recall) == (round(2 / 3, 4), 0.5)


def test_bad_gold_input_names_file_and_line(chip, tmp_path, capsys):
    _, index, gold = chip
    kgpipe_gold = tmp_path / "gold.jsonl"
    kgpipe_gold.write_text(json.dumps({"id": "a", "text": "高血压", "mentions": [
        {"start": 0, "end": 3, "kb_id": "C0"}]}) + "\n" + json.dumps({"id": "b", "text": "高血压", "mentions": [
            {"start": 0, "end": 3, "kb_id": "NOPE"}]}) + "\n", "utf-8")
    opened = AliasIndex.open(index)
    with pytest.raises(GoldError, match=r"gold.jsonl:2: gold kb_id 'NOPE' is not in the KB"):
        load_gold(kgpipe_gold, GoldFormat.KGPIPE, opened)
    stats = GoldStats()
    documents = load_gold(kgpipe_gold, GoldFormat.KGPIPE, opened, UnknownGold.NIL, stats=stats)
    assert stats.unknown_targets == 1 and stats.nil_mentions == 1 and documents[1].target_groups() == ((),)
    linker = EntityLinker.load(LinkerConfig(kb_path=str(index)))
    with pytest.raises(GoldError, match=r"gold.jsonl:2: gold kb_id 'NOPE' is not in the KB"):
        evaluate(linker, list(read_gold(kgpipe_gold)))  # never a silent miss
    shifted = tmp_path / "shifted.jsonl"
    shifted.write_text(json.dumps({"id": "a", "text": "患高血压", "mentions": [
        {"start": 0, "end": 3, "text": "高血压", "kb_id": "C0"}]}, ensure_ascii=False) + "\n", "utf-8")
    with pytest.raises(GoldError, match=r"shifted.jsonl:1: .*'高血压' does not match the text at \[0, 3\)"):
        load_gold(shifted, GoldFormat.KGPIPE, opened)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", "utf-8")
    with pytest.raises(GoldError, match=r"empty.jsonl:1: empty gold file"):
        load_gold(empty, GoldFormat.KGPIPE, opened)
    unknown_name = tmp_path / "unknown.json"
    unknown_name.write_text('[\n {"text": "头痛", "normalized_result": "高血压"},\n'
                            ' {"text": "头晕", "normalized_result": "眩晕症"}\n]\n', "utf-8")
    with pytest.raises(GoldError, match=r"unknown.json:3: gold name '眩晕症' is not a name or alias"):
        load_gold(unknown_name, GoldFormat.CHIP_CDN, opened)
    assert _run(["link", "eval", "--kb", str(index), "--gold", str(unknown_name), "--gold-format", "chip-cdn"]) == 1
    assert "unknown.json:3: gold name '眩晕症'" in capsys.readouterr().err
    with pytest.raises(GoldError, match=r"no gold documents"):
        load_gold(gold, GoldFormat.CHIP_CDN, opened, items=slice(500, None))


def test_kb_without_names_is_an_error_naming_the_line(tmp_path):
    bad = tmp_path / "kb.tsv"
    bad.write_text("id\tname\nC1\t高血压\nC2\t\n", "utf-8")
    with pytest.raises(KbError, match=r"kb.tsv:3"):
        list(iter_entities(bad))
    headless = tmp_path / "noname.tsv"
    headless.write_text("id\tcode\nC1\tx\n", "utf-8")
    with pytest.raises(KbError, match=r"noname.tsv:1.*name"):
        list(iter_entities(headless))


def test_linker_dir_errors(chip, tmp_path):
    with pytest.raises(LinkerDirError, match="not a linker directory"):
        EntityLinker.load(LinkerConfig(linker_dir=str(tmp_path)))
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "linker.json").write_text('{"version": 1, "model": "svm"}', "utf-8")
    with pytest.raises(LinkerDirError, match="broken/linker.json"):
        EntityLinker.load(LinkerConfig(linker_dir=str(tmp_path / "broken")))


def test_example_memory_votes_leave_the_mention_itself_out(tmp_path):
    from kgpipe.linking.memory import ExampleMemory

    ExampleMemory.write(["右乳腺癌", "左乳腺癌术后", "高血压"], [[5], [5, 6], [1]], tmp_path)
    memory = ExampleMemory.open(tmp_path, n_entities=10)
    votes = memory.votes("乳腺癌iv期", neighbours=2)
    assert set(votes) == {5, 6} and votes[5][0] == pytest.approx(1.0) and votes[6][0] < 1.0
    assert set(memory.votes("右乳腺癌", neighbours=1, exclude=0)) == {5, 6}  # its own link is not a vote
    assert memory.frequency_of(5) == 2 and memory.frequency_of(5, exclude=0) == 1


def test_chip_cdn_shared_data_reader(shared_data, tmp_path):
    """The real CHIP-CDN train split resolves against the ICD-10 KB (header renamed in a temp copy)."""
    source = shared_data / "chip_cdn" / "icd10_kb.tsv"
    kb = tmp_path / "icd10_kb.tsv"
    kb.write_text(source.read_text("utf-8").replace("code\tname\n", "id\tname\n", 1), "utf-8")
    index = AliasIndex.open(build_index(iter_entities(kb), tmp_path / "index", name="icd", content_hash="0"))
    assert index.size == 40_474
    with pytest.raises(GoldError, match=r"train.json:\d+: gold name .* is not a name or alias"):
        load_gold(shared_data / "chip_cdn" / "train.json", GoldFormat.CHIP_CDN, index)
    stats = GoldStats()
    documents = load_gold(shared_data / "chip_cdn" / "train.json", GoldFormat.CHIP_CDN, index, UnknownGold.NIL,
                          items=slice(5000, None), stats=stats)
    assert len(documents) == stats.mentions == 1000
    assert 0 < stats.unknown_targets < 0.1 * stats.targets and stats.nil_mentions < 100
    assert documents[0].sources[0].endswith(f"train.json:{4 * 5000 + 2}")  # 4 lines per item, after "["


def test_ccks2019_reader(chip, tmp_path):
    _, index, _ = chip
    path = tmp_path / "dev.json"
    lines = [{"text_id": "1", "text": "患者高血压多年", "mention_data": [
                 {"kb_id": "C0", "mention": "高血压", "offset": "2"}, {"kb_id": "NIL_Disease", "mention": "多年", "offset": "5"}]},
             {"text_id": "2", "text": "骨质疏松", "mention_data": [{"kb_id": "C7", "mention": "骨质疏松", "offset": "1"}]}]
    path.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n", "utf-8")
    opened = AliasIndex.open(index)
    with pytest.raises(GoldError, match=r"dev.json:2: mention '骨质疏松' does not match the text at offset 1"):
        load_gold(path, GoldFormat.CCKS2019, opened)
    (first,) = load_gold(path, GoldFormat.CCKS2019, opened, items=slice(0, 1))
    assert [m.text for m in first.mentions] == ["高血压", "多年"]
    assert first.target_groups() == ((frozenset({"C0"}),), ()) and first.sources == (f"{path}:1",) * 2
