"""Both provenance settings give runs that pass the SHACL shapes; full provenance still needs its run."""

import pytest

from kgpipe.kg.builder import BuilderConfig, Provenance
from kgpipe.kg.local import write_run
from kgpipe.kg.validate import validate_run
from tests.kg import sample


@pytest.mark.parametrize("provenance", list(Provenance))
def test_both_provenance_settings_validate(tmp_path, provenance):
    config = BuilderConfig("run-prov", extractor=sample.EXTRACTOR, provenance=provenance)
    write_run(tmp_path, config, sample.DOCUMENTS, sample.mentions_and_links(), sample.ENTITIES)
    report = validate_run(tmp_path)
    assert report.ok, report.to_text()
    assert not report.shacl_sampled


def test_full_provenance_mention_without_its_run_is_a_violation(tmp_path):
    config = BuilderConfig("run-prov", extractor=sample.EXTRACTOR, provenance=Provenance.FULL)
    write_run(tmp_path, config, sample.DOCUMENTS, sample.mentions_and_links(), sample.ENTITIES)
    (shard,) = sorted((tmp_path / "rdf").glob("*.nt"))
    lines = shard.read_text("utf-8").splitlines(keepends=True)
    generated = [i for i, line in enumerate(lines)
                 if "#char=" in line.split(" ")[0] and "prov#wasGeneratedBy" in line]
    assert generated, "full provenance names each mention's run"
    del lines[generated[0]]
    shard.write_text("".join(lines), "utf-8")
    text = validate_run(tmp_path).to_text()
    assert "Mention (full provenance) / prov:wasGeneratedBy" in text
    assert text.rstrip().endswith("error(s))")
