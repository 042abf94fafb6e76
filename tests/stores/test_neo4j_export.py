"""``kgpipe export --format neo4j``: neo4j-admin import CSV files checked against the documented header format."""

import csv
import re

from kgpipe.kg.export.convert import ExportConfig, export
from kgpipe.kg.export.neo4j import ARRAY_DELIMITER

# The documented format (README, kg/export/neo4j.py): neo4j-admin's typed headers.
NODE_HEADER = re.compile(r":ID|:LABEL|[a-z_]+:(string|int|long|double|boolean|string\[\])")
RELATIONSHIP_HEADER = re.compile(r":START_ID|:END_ID|:TYPE|[a-z_]+:(string|int|long|double|boolean|string\[\])")


def read(path):
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], [dict(zip(rows[0], row)) for row in rows[1:]]


def test_files_follow_the_import_format_and_every_endpoint_is_a_node(store_run, tmp_path):
    result = export(store_run, tmp_path / "neo4j", ExportConfig("neo4j"))
    paths = [p for p in result["paths"] if p.endswith(".csv")]
    nodes, relationships = {}, []
    for path in paths:
        header, rows = read(path)
        is_node = path.split("/")[-1].startswith("nodes-")
        pattern = NODE_HEADER if is_node else RELATIONSHIP_HEADER
        assert all(pattern.fullmatch(name) for name in header), header
        if is_node:
            assert (header[0], header[-1]) == (":ID", ":LABEL")
            for row in rows:
                assert row[":ID"] not in nodes, f"duplicate node id {row[':ID']}"
                nodes[row[":ID"]] = row
        else:
            assert header[:2] == [":START_ID", ":END_ID"] and header[-1] == ":TYPE"
            relationships += rows
    assert (len(nodes), len(relationships)) == (result["nodes"], result["triples"]) == (26, 39)
    for rel in relationships:
        assert rel[":START_ID"] in nodes and rel[":END_ID"] in nodes, rel
    types = {rel[":TYPE"] for rel in relationships}
    assert types == {"IN_DOCUMENT", "REFERS_TO", "BRAND", "CO_OCCURS_WITH"}
    by_name = {row["name:string"]: row for row in nodes.values() if "name:string" in row}
    assert by_name["马云"][":LABEL"].split(ARRAY_DELIMITER) == ["Entity", "Person"]
    assert by_name["马云"]["aliases:string[]"].split(ARRAY_DELIMITER) == ["Jack Ma"]
    brands = {(nodes[r[":START_ID"]]["name:string"], nodes[r[":END_ID"]]["name:string"])
              for r in relationships if r[":TYPE"] == "BRAND"}
    assert brands == {("手机", "华为"), ("充电宝", "小米")}
    assert all(int(r["count:long"]) >= 1 for r in relationships if r[":TYPE"] == "CO_OCCURS_WITH")


def test_import_command_names_every_file(store_run, tmp_path):
    result = export(store_run, tmp_path / "neo4j", ExportConfig("neo4j"))
    command = result["command"]
    assert command.startswith("neo4j-admin database import full neo4j ")
    assert "--array-delimiter=U+001F" in command and "--multiline-fields=true" in command
    for path in result["paths"]:
        if path.endswith(".csv"):
            flag = "--nodes=" if "/nodes-" in path else "--relationships="
            assert flag + path in command
    assert command in (tmp_path / "neo4j" / "neo4j-admin-import.sh").read_text("utf-8")
