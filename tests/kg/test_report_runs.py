"""The HTML report shows each run's rows, dead letters and throughput."""

import json

from kgpipe.kg import manifest
from kgpipe.kg.report import render_report


def test_report_lists_dead_letters_by_reason_and_run_throughput(run_copy):
    (record,) = manifest.read_manifests(run_copy)
    record.update(dead_letters={"read": 3}, seconds=12.5,
                  throughput={"documents_per_second": 4.2, "ner_chars_per_second": 1234.5})
    manifest.write_manifest(run_copy, record)
    folder = run_copy / "dead_letter"
    folder.mkdir(exist_ok=True)
    lines = [{"input_ref": f"in.jsonl:{n}", "stage": "read", "error": f"invalid JSON at column {n}", "payload": ""}
             for n in (2, 7)] + [{"input_ref": "in.jsonl.gz:*", "stage": "read", "payload": "",
                                  "error": "file unreadable after 700 records (the rest of it is lost): EOFError"}]
    (folder / "run-sample-dead.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines), "utf-8")
    page = render_report(run_copy)
    runs = page[page.index('id="runs"'):page.index("</table>", page.index('id="runs"'))]
    assert "run-sample" in runs and "12.5" in runs and "4.2" in runs and "1234.5" in runs and "read 3" in runs
    dead = page[page.index('id="dead-letters"'):page.index("</table>", page.index('id="dead-letters"'))]
    assert "invalid JSON at column N" in dead and '<td class="n">2</td>' in dead and "in.jsonl:2" in dead
    assert "file unreadable after N records" in dead and "in.jsonl.gz:*" in dead


def test_report_says_when_there_are_no_dead_letters(sample_run_dir):
    assert "None: every input record became a document." in render_report(sample_run_dir)
